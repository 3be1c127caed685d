/**
 * What the scheduler needs from the outside world; `daemon.ts` plugs the
 * adapters in, tests plug in doubles.
 *
 * @module
 */
import type { Job } from "../domain/job.ts";
import type { Mutation } from "../domain/mutation.ts";
import type { Rule } from "../domain/rule.ts";

/** Wall-clock time, injected so tests can steer it. */
export interface Clock {
  /** Nanoseconds since the Unix epoch (wall clock). */
  nowNs(): bigint;
}

/** Cancels a task a {@link Timer} was given; calling it twice is harmless. */
export type Cancel = () => void;

/** Deferred calls, injected so scheduling tests need no real timers. */
export interface Timer {
  /** Runs `task` once after `delayMs` milliseconds. */
  after(delayMs: number, task: () => void): Cancel;
  /** Runs `task` once, as soon as pending I/O has had its turn. */
  soon(task: () => void): Cancel;
}

/** Where mutations become durable (spec: persistence.md §5). */
export interface Journal {
  /** `false` while in read-only mode: mutations must be refused. */
  readonly writable: boolean;
  /**
   * Queues a record; resolves once it is committed, rejects when its group
   * failed. Appends committed together share one promise, and a failure
   * rejects the newer groups first, so their owner can undo newest first.
   */
  append(mutation: Mutation): Promise<void>;
  /**
   * Cluster mode: `false` once this node may no longer act as the leader
   * (its lease ran out on its own clock, or it was deposed). No execution
   * starts then, even one whose `triggered` record was committed before
   * (spec: cluster.md §5, a paused leader fires nothing after its lease).
   * Absent: always `true`.
   */
  mayAct?(): boolean;
}

/** One run of a runner for one job (spec: runners.md §1). */
export interface Execution {
  readonly job: Job;
  readonly rule: Rule;
  /** Aborts on timeout or shutdown. */
  readonly signal: AbortSignal;
  /**
   * The W3C `traceparent` of the execution's span, for runners that pass
   * it on (http); absent when telemetry is off (observability.md §2).
   */
  readonly traceparent?: TraceParent | undefined;
}

/**
 * How an execution ended; runners never throw. `detail` is the run's token
 * (`exit:0`, `http:503`, `spawn-error`, `ok`, `error`, …; spec:
 * extensions.md §3). A failure's `reason` is what is logged (credentials
 * redacted); a failed process adds the end of its `stderr`, redacted too.
 */
export type Outcome =
  | { readonly ok: true; readonly detail: string }
  | {
    readonly ok: false;
    readonly reason: string;
    readonly detail: string;
    readonly stderr?: string;
  };

/** Runs executions; the runners' single face. */
export interface Executor {
  execute(execution: Execution): Promise<Outcome>;
}

/** Label values of one series: fixed words, never identifiers. */
export type Labels = Readonly<Record<string, string>>;

/** The counters of observability.md §1, without the `ztick_` prefix. */
export type CounterName =
  | "requests_total"
  | "jobs_scheduled_total"
  | "jobs_removed_total"
  | "executions_total"
  | "retries_total"
  | "no_rule_total"
  | "journal_commits_total"
  | "journal_records_total"
  | "compactions_total"
  | "auth_failures_total";

/**
 * The histograms of observability.md §1, without the `ztick_` prefix, and
 * `execution_duration_ms`, one of ztick's seven OTLP names (§2).
 */
export type HistogramName =
  | "execution_duration_seconds"
  | "schedule_lag_seconds"
  | "journal_commit_duration_seconds"
  | "execution_duration_ms";

/** One series of a counter. */
export interface Counter {
  add(value?: number): void;
}

/** One series of a histogram. */
export interface Histogram {
  observe(value: number): void;
}

/**
 * Where the core counts what happens; STAT, `/metrics` and telemetry read
 * the same registry. Resolve a series once and keep it: `add` and
 * `observe` are meant for hot paths.
 */
export interface Metrics {
  counter(name: CounterName, labels?: Labels): Counter;
  histogram(name: HistogramName, labels?: Labels): Histogram;
}

/**
 * A span's W3C trace context as its `traceparent` value,
 * `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`: how a job keeps
 * the span of the SET that scheduled it, and how an execution hands its
 * own span to the runner.
 */
export type TraceParent = string;

/** What an execution's span says when it starts (observability.md §2). */
export interface ExecutionTrace {
  readonly jobId: string;
  readonly ruleId: string;
  readonly runner: string;
  readonly attempt: number;
  /** Due time to start, in milliseconds. */
  readonly lagMs: number;
  /** The span of the SET that scheduled the job, when set since start. */
  readonly setSpan: TraceParent | undefined;
}

/** An execution's span, ended once. */
export interface ExecutionSpan {
  /** The span's context for the runner; `undefined` when not traced. */
  readonly traceparent: TraceParent | undefined;
  end(outcome: "executed" | "failed", detail: string): void;
}

/**
 * Where executions are traced: one `ztick.execution` span each, linked to
 * the SET's span (spec: observability.md §2). The daemon plugs in
 * OpenTelemetry, or a tracer that does nothing.
 */
export interface Tracer {
  startExecution(trace: ExecutionTrace): ExecutionSpan;
}
