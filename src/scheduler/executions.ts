import { findRule, type Rule } from "../domain/rule.ts";
import { DETAIL } from "../domain/run.ts";
import type { RunnerKind } from "../domain/runner.ts";
import { deadline } from "../deadline.ts";
import { logger } from "../log.ts";
import { Fifo } from "./_fifo.ts";
import type { JobEntry, JobStore } from "./job_store.ts";
import { jobValue, NO_RULE, Outcomes, type Ran } from "./outcomes.ts";
import type {
  Clock,
  Counter,
  ExecutionSpan,
  Executor,
  Histogram,
  Journal,
  Metrics,
  Outcome,
  Tracer,
} from "./ports.ts";
import type { UndoLog } from "./undo_log.ts";

const log = logger("scheduler");
const NS_PER_SECOND = 1e9;
const NS_PER_MS = 1e6;
/** How much of a failed process's stderr its warn line shows. */
const STDERR_LOGGED = 200;

/** What executions need from the rest of the scheduler. */
export interface ExecutionsOptions {
  readonly store: JobStore;
  readonly journal: Journal;
  readonly undoLog: UndoLog;
  readonly executor: Executor;
  readonly clock: Clock;
  readonly metrics: Metrics;
  /** At most this many executions run at once. */
  readonly concurrency: number;
  /** Per-execution limit; 0 means none. A rule's `timeout` overrides it. */
  readonly timeoutMs: number;
  /** What happens at start to jobs a crash left `triggered`. */
  readonly onInterrupted: "rerun" | "fail";
  /** Uniform in [0, 1): the jitter of retry delays (spec: extensions.md §2). */
  readonly random: () => number;
  /** Spans of executions; none unless telemetry is on. */
  readonly tracer?: Tracer;
}

const NO_SPAN: ExecutionSpan = { traceparent: undefined, end() {} };
/** The tracer when telemetry is off: no span, no cost. */
const UNTRACED: Tracer = { startExecution: () => NO_SPAN };

/** An execution waiting for a free slot. */
type Queued = Ran;

/** The metric series of one runner type. */
interface RunnerSeries {
  readonly executed: Counter;
  readonly failed: Counter;
  readonly duration: Histogram;
}

/**
 * From due job to recorded outcome: rule selection, the `triggered` record,
 * a FIFO queue under the concurrency limit, timeouts (a rule's own or the
 * configured one), outcomes, retries and runs through {@link Outcomes},
 * and the graceful stop (spec: runners.md §1, persistence.md §6,
 * extensions.md §2–§3).
 */
export class Executions {
  readonly #options: ExecutionsOptions;
  readonly #pending = new Fifo<Queued>();
  readonly #running = new Set<AbortController>();
  readonly #inflight = new Set<Promise<void>>();
  #interrupted: JobEntry[] = [];
  #stopping = false;
  #recording = true;
  readonly #series = new Map<RunnerKind, RunnerSeries>();
  readonly #noRule: Counter;
  readonly #lag: Histogram;
  /** Due time to the end of a successful execution (OTLP only). */
  readonly #dueToEnd: Histogram;
  readonly #tracer: Tracer;
  readonly #outcomes: Outcomes;

  constructor(options: ExecutionsOptions) {
    this.#options = options;
    this.#noRule = options.metrics.counter("no_rule_total");
    this.#lag = options.metrics.histogram("schedule_lag_seconds");
    this.#dueToEnd = options.metrics.histogram("execution_duration_ms");
    this.#tracer = options.tracer ?? UNTRACED;
    this.#outcomes = new Outcomes({
      ...options,
      requeue: (entry) => this.#interrupted.push(entry),
    });
  }

  /** Runs committed since start (STAT `runs_recorded`). */
  get runsRecorded(): number {
    return this.#outcomes.runsRecorded;
  }

  /** Executions waiting for a free slot (STAT `executions_pending`). */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Executions running (STAT `executions_inflight`). */
  get inflightCount(): number {
    return this.#running.size;
  }

  /**
   * Decides what happens to jobs a crash left `triggered`, as
   * `onInterrupted` says: run again at start with the attempt they had, or
   * failed now; each gets an `interrupted` run and a warning (spec:
   * persistence.md §6, extensions.md §2–§3). Call after replay.
   */
  settleInterrupted(): void {
    const nowNs = this.#options.clock.nowNs();
    const rerun = this.#options.onInterrupted === "rerun";
    for (const entry of this.#options.store.jobs()) {
      if (isMissed(entry, nowNs)) this.#outcomes.missed(entry, nowNs);
      if (entry.status !== "triggered") continue;
      if (rerun) {
        log.warn(`interrupted job ${entry.id} will run again`, {
          job: entry.id,
        });
        this.#interrupted.push(entry);
      } else {
        log.warn(`interrupted job ${entry.id} marked failed`, {
          job: entry.id,
        });
      }
      this.#outcomes.interrupted(entry, nowNs, rerun);
    }
  }

  /**
   * Triggers interrupted jobs, then every job due by `nowNs`, in order;
   * returns whether it took any.
   */
  fireDue(nowNs: bigint): boolean {
    if (this.#stopping) return false;
    const { store } = this.#options;
    const interrupted = this.#interrupted;
    let fired = interrupted.length > 0;
    if (fired) this.#interrupted = [];
    for (const entry of interrupted) {
      if (store.isCurrent(entry) && entry.status === "triggered") {
        this.#trigger(entry);
      }
    }
    for (let entry = store.popDue(nowNs); entry; entry = store.popDue(nowNs)) {
      fired = true;
      this.#trigger(entry);
    }
    return fired;
  }

  /**
   * Stops starting executions, gives running ones `graceMs` to finish
   * (their outcomes are recorded), then aborts the rest without recording
   * them (spec: runners.md §1, shutdown).
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    if (this.#inflight.size > 0 && graceMs > 0) {
      using grace = deadline(undefined, graceMs, () => undefined);
      const elapsed = new Promise((resolve) =>
        grace.signal.addEventListener("abort", resolve, { once: true })
      );
      await Promise.race([Promise.all(this.#inflight), elapsed]);
    }
    this.#recording = false;
    for (const controller of this.#running) {
      controller.abort(new ShutdownError());
    }
    await Promise.all(this.#inflight);
  }

  /** Selects the rule of a due job and queues its execution (runners.md §1). */
  #trigger(entry: JobEntry): void {
    const rule = findRule(this.#options.store.rules(), entry.id);
    if (rule === undefined) {
      log.warn(`job ${entry.id} failed: ${NO_RULE}`, {
        job: entry.id,
        detail: DETAIL.noRule,
      });
      this.#noRule.add();
      this.#outcomes.noRule(entry, this.#options.clock.nowNs());
      return;
    }
    const job = jobValue(entry, "triggered");
    const { store } = this.#options;
    // Created now, so the outcome can tell a removal from a re-SET.
    const history = store.historyLimit > 0 ? store.historyOf(entry) : undefined;
    this.#outcomes.transition(entry, "triggered").then(() => {
      this.#pending.push({ entry, history, job, rule });
      this.#pump();
    }, ignoreUncommitted);
  }

  #pump(): void {
    const { store, concurrency, journal } = this.#options;
    if (journal.mayAct?.() === false) return;
    while (
      !this.#stopping && this.#running.size < concurrency &&
      this.#pending.size > 0
    ) {
      const queued = this.#pending.shift()!;
      if (!store.isCurrent(queued.entry)) {
        log.debug(
          `execution of job ${queued.job.id} dropped: job was re-set or removed`,
          { job: queued.job.id },
        );
        continue;
      }
      const done = this.#run(queued);
      this.#inflight.add(done);
      done.finally(() => this.#inflight.delete(done));
    }
  }

  async #run(queued: Queued): Promise<void> {
    const { job, rule } = queued;
    const { clock, executor } = this.#options;
    const timeoutMs = rule.options?.timeoutMs ?? this.#options.timeoutMs;
    const shutdown = new AbortController();
    this.#running.add(shutdown);
    const startedNs = clock.nowNs();
    const lagNs = Number(startedNs - job.executionNs);
    this.#lag.observe(lagNs / NS_PER_SECOND);
    const span = this.#startSpan(queued, lagNs / NS_PER_MS);
    const { traceparent } = span;
    let outcome: Outcome;
    try {
      using limit = deadline(
        shutdown.signal,
        timeoutMs,
        () => new TimeoutError(timeoutMs),
      );
      const { signal } = limit;
      outcome = await executor.execute({ job, rule, signal, traceparent });
      if (!outcome.ok && limit.signal.reason instanceof TimeoutError) {
        outcome = { ...outcome, detail: DETAIL.timeout };
      }
    } catch (error) {
      const reason = `unexpected error: ${error}`;
      outcome = { ok: false, reason, detail: DETAIL.error };
    } finally {
      this.#running.delete(shutdown);
    }
    const endedNs = clock.nowNs();
    const series = this.#seriesOf(rule.runner.kind);
    (outcome.ok ? series.executed : series.failed).add();
    series.duration.observe(Number(endedNs - startedNs) / NS_PER_SECOND);
    if (outcome.ok) {
      this.#dueToEnd.observe(Number(endedNs - job.executionNs) / NS_PER_MS);
    }
    span.end(outcome.ok ? "executed" : "failed", outcome.detail);
    this.#finish(queued, outcome);
    if (this.#recording) {
      this.#outcomes.finished(queued, { outcome, startedNs, endedNs });
    }
    this.#pump();
  }

  /** The `ztick.execution` span of an execution starting now. */
  #startSpan({ entry, job, rule }: Queued, lagMs: number): ExecutionSpan {
    return this.#tracer.startExecution({
      jobId: job.id,
      ruleId: rule.id,
      runner: rule.runner.kind,
      attempt: job.attempt ?? 1,
      lagMs,
      setSpan: entry.setSpan,
    });
  }

  /** Logs how an execution ended. */
  #finish({ entry, rule }: Queued, outcome: Outcome): void {
    const job = entry.id;
    log.debug(`execution outcome: job=${job} success=${outcome.ok}`, { job });
    if (!outcome.ok) logFailure(job, rule, outcome);
    if (!this.#recording) {
      log.debug(`outcome of job ${job} not recorded: shutting down`, { job });
    }
  }

  #seriesOf(kind: RunnerKind): RunnerSeries {
    let series = this.#series.get(kind);
    if (series === undefined) {
      const { metrics } = this.#options;
      series = {
        executed: metrics.counter("executions_total", {
          runner: kind,
          outcome: "executed",
        }),
        failed: metrics.counter("executions_total", {
          runner: kind,
          outcome: "failed",
        }),
        duration: metrics.histogram("execution_duration_seconds", {
          runner: kind,
        }),
      };
      this.#series.set(kind, series);
    }
    return series;
  }
}

/**
 * A recurring job whose occurrence passed while the daemon was down (not
 * a retry: those run as they are), unless its policy is `all`.
 */
function isMissed(entry: JobEntry, nowNs: bigint): boolean {
  return entry.status === "planned" && entry.schedule !== undefined &&
    entry.schedule.catchup !== "all" && entry.occurrenceNs === undefined &&
    entry.executionNs <= nowNs;
}

/** Why an execution was aborted when its time ran out. */
export class TimeoutError extends Error {
  override name = "TimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs / 1000} s`);
  }
}

/**
 * The warn line of a failed execution: what ran, the detail, the reason
 * and the end of the process's stderr (spec: configuration.md §5).
 */
function logFailure(
  job: string,
  rule: Rule,
  outcome: Extract<Outcome, { ok: false }>,
): void {
  const { reason, detail } = outcome;
  const runner = rule.runner.kind;
  const tail = lastChars(outcome.stderr?.trimEnd() ?? "", STDERR_LOGGED);
  const stderr = tail ? `; stderr: ${tail}` : "";
  log.warn(
    `execution failed: job=${job} rule=${rule.id} runner=${runner} detail=${detail}: ${reason}${stderr}`,
    { job, rule: rule.id, runner, detail, reason },
  );
}

/**
 * The last `count` characters (code points) of `text`, after `…` when cut.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lastChars } from "./executions.ts";
 *
 * assert.equal(lastChars("abcdé", 2), "…dé");
 * assert.equal(lastChars("ab", 2), "ab");
 * ```
 */
export function lastChars(text: string, count: number): string {
  const chars = [...text];
  return chars.length <= count ? text : `…${chars.slice(-count).join("")}`;
}

/** Why an execution was aborted at shutdown. */
export class ShutdownError extends Error {
  override name = "ShutdownError";
  constructor() {
    super("aborted at shutdown");
  }
}

// A status record that could not be committed was undone by the undo log;
// the journal logs the failure and enters read-only mode.
function ignoreUncommitted(): void {}
