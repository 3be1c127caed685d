/** A scheduler on test doubles: a hand-moved clock, executions ended by hand. */
import type { Mutation } from "../../src/domain/mutation.ts";
import { isFailure, type Result } from "../../src/domain/result.ts";
import type { Run } from "../../src/domain/run.ts";
import { renderAnswer } from "../../src/protocol/answer.ts";
import { parseRequest } from "../../src/protocol/request.ts";
import { formatRecord } from "../../src/persistence/record.ts";
import { JobStore } from "../../src/scheduler/job_store.ts";
import type { Journal, Outcome, Tracer } from "../../src/scheduler/ports.ts";
import { Scheduler } from "../../src/scheduler/scheduler.ts";
import { SYSTEM_TIMER } from "../../src/system_time.ts";
import { MetricsRegistry } from "../../src/telemetry/registry.ts";
import { ControlledExecutor, ManualClock, settle } from "./doubles.ts";

export const T0 = 1_775_008_800_000_000_000n;
export const MS = 1_000_000n;
export const SECOND = 1_000_000_000n;

/**
 * A journal that commits as the logfile journal does: appends made in one
 * turn share a group (one promise); a failed group rejects them all and
 * turns the journal read-only.
 */
export class GroupJournal implements Journal {
  /** Committed records, as logfile lines. */
  readonly lines: string[] = [];
  /** Committed groups, each as its logfile lines. */
  readonly groups: string[][] = [];
  writable = true;
  failNextGroup = false;
  /** What `mayAct()` answers: a cluster leader whose lease ran out is false. */
  acting = true;
  #forming: { items: Mutation[]; done: PromiseWithResolvers<void> } | undefined;

  append(mutation: Mutation): Promise<void> {
    if (!this.writable) return Promise.reject(new Error("read-only"));
    if (this.#forming === undefined) {
      this.#forming = { items: [], done: Promise.withResolvers<void>() };
      queueMicrotask(() => this.#flush());
    }
    this.#forming.items.push(mutation);
    return this.#forming.done.promise;
  }

  mayAct(): boolean {
    return this.acting;
  }

  #flush(): void {
    const group = this.#forming!;
    this.#forming = undefined;
    if (this.failNextGroup) {
      this.failNextGroup = false;
      this.writable = false;
      group.done.reject(new Error("disk full"));
      return;
    }
    const lines = group.items.map(formatRecord);
    this.lines.push(...lines);
    this.groups.push(lines);
    group.done.resolve();
  }
}

/** What a test drives. */
export interface Fixture {
  readonly clock: ManualClock;
  readonly journal: GroupJournal;
  readonly executor: ControlledExecutor;
  readonly scheduler: Scheduler;
  readonly store: JobStore;
  readonly registry: MetricsRegistry;
  /**
   * Applies a request line (without id) and returns its answer lines
   * without the id, or `ERROR`.
   */
  request(line: string, namespace?: string): string;
  /** Applies a logfile record, as replay does. */
  restore(mutation: Mutation): void;
  /** Fires what is due at the clock's time and lets the records commit. */
  tick(): Promise<void>;
  /** Ends the `index`-th execution started so far. */
  finish(index: number, outcome: Outcome): Promise<void>;
  /** The job's kept runs. */
  runs(jobId: string): readonly Run[];
}

/** Builds a scheduler with jitter `random` (0.05 unless given). */
export function fixture(
  options: {
    random?: () => number;
    history?: number;
    onInterrupted?: "rerun" | "fail";
    timeoutMs?: number;
    tracer?: Tracer;
  } = {},
): Fixture {
  const clock = new ManualClock(T0);
  const journal = new GroupJournal();
  const executor = new ControlledExecutor();
  const store = new JobStore(
    options.history === undefined ? {} : { history: options.history },
  );
  const registry = new MetricsRegistry();
  const scheduler = new Scheduler({
    store,
    clock,
    timer: SYSTEM_TIMER,
    journal,
    executor,
    metrics: registry,
    stat: () => [],
    concurrency: 16,
    timeoutMs: options.timeoutMs ?? 0,
    onInterrupted: options.onInterrupted ?? "rerun",
    random: options.random ?? (() => 0.05),
    ...(options.tracer ? { tracer: options.tracer } : {}),
  });
  return {
    clock,
    journal,
    executor,
    scheduler,
    store,
    registry,
    request(line, namespace) {
      const request = parseRequest(`r ${line}`);
      if (request.kind !== "command") return "ERROR";
      const result: Result = scheduler.handle(request.command, namespace);
      if (isFailure(result)) return "ERROR";
      return renderAnswer("r", result).trimEnd().replaceAll(/^r /gm, "");
    },
    restore: (mutation) => store.apply(mutation),
    async tick() {
      scheduler.tick();
      await settle();
    },
    async finish(index, outcome) {
      executor.started[index]!.finish(outcome);
      await settle();
    },
    runs(jobId) {
      const entry = store.job(jobId);
      return entry ? store.runsOf(entry) : [];
    },
  };
}

/** An outcome as a failed process reports it. */
export function exited(code: number, stderr?: string): Outcome {
  if (code === 0) return { ok: true, detail: "exit:0" };
  const failure = {
    ok: false as const,
    reason: `exited with code ${code}`,
    detail: `exit:${code}`,
  };
  return stderr === undefined ? failure : { ...failure, stderr };
}
