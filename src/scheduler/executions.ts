import type { Job, JobStatus } from "../domain/job.ts";
import { findRule, type Rule } from "../domain/rule.ts";
import type { RunnerKind } from "../domain/runner.ts";
import { deadline } from "../deadline.ts";
import { logger } from "../log.ts";
import { Fifo } from "./_fifo.ts";
import type { JobEntry, JobStore } from "./job_store.ts";
import type {
  Clock,
  Counter,
  Executor,
  Histogram,
  Journal,
  Metrics,
  Outcome,
} from "./ports.ts";
import type { UndoLog } from "./undo_log.ts";

const log = logger("scheduler");
const NS_PER_SECOND = 1e9;

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
  /** Per-execution limit; 0 means none. */
  readonly timeoutMs: number;
  /** What happens at start to jobs a crash left `triggered`. */
  readonly onInterrupted: "rerun" | "fail";
}

/** An execution waiting for a free slot. */
interface Queued {
  readonly entry: JobEntry;
  readonly job: Job;
  readonly rule: Rule;
}

/** The metric series of one runner type. */
interface RunnerSeries {
  readonly executed: Counter;
  readonly failed: Counter;
  readonly duration: Histogram;
}

/**
 * From due job to recorded outcome: rule selection, the `triggered` record,
 * a FIFO queue under the concurrency limit, timeouts, outcomes, and the
 * graceful stop (spec: runners.md §1, persistence.md §6).
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

  constructor(options: ExecutionsOptions) {
    this.#options = options;
    this.#noRule = options.metrics.counter("no_rule_total");
    this.#lag = options.metrics.histogram("schedule_lag_seconds");
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
   * `onInterrupted` says: run again at start, or failed now; a warning
   * names each (spec: persistence.md §6). Call after replay.
   */
  settleInterrupted(): void {
    for (const entry of this.#options.store.jobs()) {
      if (entry.status !== "triggered") continue;
      if (this.#options.onInterrupted === "rerun") {
        log.warn(`interrupted job ${entry.id} will run again`, {
          job: entry.id,
        });
        this.#interrupted.push(entry);
      } else {
        log.warn(`interrupted job ${entry.id} marked failed`, {
          job: entry.id,
        });
        this.#transition(entry, "failed").catch(ignoreUncommitted);
      }
    }
  }

  /** Triggers interrupted jobs, then every job due by `nowNs`, in order. */
  fireDue(nowNs: bigint): void {
    if (this.#stopping) return;
    const { store } = this.#options;
    const interrupted = this.#interrupted;
    this.#interrupted = [];
    for (const entry of interrupted) {
      if (store.isCurrent(entry) && entry.status === "triggered") {
        this.#trigger(entry);
      }
    }
    for (let entry = store.popDue(nowNs); entry; entry = store.popDue(nowNs)) {
      this.#trigger(entry);
    }
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
      log.warn(`job ${entry.id} failed: no rule matches`, {
        job: entry.id,
        detail: "no-rule",
      });
      this.#noRule.add();
      this.#transition(entry, "failed").catch(ignoreUncommitted);
      return;
    }
    const job: Job = {
      id: entry.id,
      executionNs: entry.executionNs,
      status: "triggered",
    };
    this.#transition(entry, "triggered").then(() => {
      this.#pending.push({ entry, job, rule });
      this.#pump();
    }, ignoreUncommitted);
  }

  #pump(): void {
    const { store, concurrency } = this.#options;
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

  async #run({ entry, job, rule }: Queued): Promise<void> {
    const { clock, executor, timeoutMs } = this.#options;
    const shutdown = new AbortController();
    this.#running.add(shutdown);
    const startedNs = clock.nowNs();
    this.#lag.observe(Number(startedNs - job.executionNs) / NS_PER_SECOND);
    let outcome: Outcome;
    try {
      using limit = deadline(
        shutdown.signal,
        timeoutMs,
        () => new TimeoutError(timeoutMs),
      );
      outcome = await executor.execute({ job, rule, signal: limit.signal });
      if (!outcome.ok && limit.signal.reason instanceof TimeoutError) {
        outcome = { ...outcome, detail: "timeout" };
      }
    } catch (error) {
      outcome = { ok: false, reason: `unexpected error: ${error}` };
    } finally {
      this.#running.delete(shutdown);
    }
    const series = this.#seriesOf(rule.runner.kind);
    (outcome.ok ? series.executed : series.failed).add();
    series.duration.observe(Number(clock.nowNs() - startedNs) / NS_PER_SECOND);
    this.#finish(entry, rule, outcome);
    this.#pump();
  }

  #finish(entry: JobEntry, rule: Rule, outcome: Outcome): void {
    const job = entry.id;
    log.debug(`execution outcome: job=${job} success=${outcome.ok}`, { job });
    if (!outcome.ok) logFailure(job, rule, outcome);
    if (!this.#recording) {
      log.debug(`outcome of job ${job} not recorded: shutting down`, { job });
      return;
    }
    const { store } = this.#options;
    if (!store.isCurrent(entry) || entry.status !== "triggered") {
      log.debug(
        `outcome of job ${entry.id} discarded: job was re-set or removed`,
        { job },
      );
      return;
    }
    this.#transition(entry, outcome.ok ? "executed" : "failed").catch(
      ignoreUncommitted,
    );
  }

  /** Changes a stored job's status and records it; undone if not durable. */
  #transition(entry: JobEntry, status: JobStatus): Promise<void> {
    const { store, journal, undoLog } = this.#options;
    const before = entry.status;
    store.setStatus(entry, status);
    const job: Job = { id: entry.id, executionNs: entry.executionNs, status };
    return undoLog.track(journal.append({ kind: "set", job }), () => {
      if (!store.isCurrent(entry) || entry.status !== status) return;
      store.setStatus(entry, before);
      if (before === "planned") store.replan(entry);
      if (before === "triggered") this.#interrupted.push(entry);
    });
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
  const { reason, stderrTail } = outcome;
  const detail = outcome.detail ?? "error";
  const runner = rule.runner.kind;
  const stderr = stderrTail ? `; stderr: ${stderrTail}` : "";
  log.warn(
    `execution failed: job=${job} rule=${rule.id} runner=${runner} detail=${detail}: ${reason}${stderr}`,
    { job, rule: rule.id, runner, detail, reason },
  );
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
