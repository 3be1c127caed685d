import type { Job } from "../domain/job.ts";
import type { Mutation } from "../domain/mutation.ts";
import type { Rule } from "../domain/rule.ts";

/** Wall-clock time, injected so tests can steer it. */
export interface Clock {
  /** Nanoseconds since the Unix epoch (wall clock). */
  nowNs(): bigint;
}

/** Where mutations become durable (spec: persistence.md §5). */
export interface Journal {
  /** `false` while in read-only mode: mutations must be refused. */
  readonly writable: boolean;
  /**
   * Queues a record; resolves once it is committed. When its group fails,
   * `undo` callbacks of that group run newest first, then it rejects.
   */
  append(mutation: Mutation, undo?: () => void): Promise<void>;
}

/** One run of a runner for one job (spec: runners.md §1). */
export interface Execution {
  readonly job: Job;
  readonly rule: Rule;
  /** Aborts on timeout or shutdown. */
  readonly signal: AbortSignal;
}

/** How an execution ended; runners never throw. */
export type Outcome = { ok: true } | { ok: false; reason: string };

/** Runs executions; the runners' single face. */
export interface Executor {
  execute(execution: Execution): Promise<Outcome>;
}
