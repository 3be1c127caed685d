import { countPast, latestOccurrence, nextPlanned } from "../domain/cron.ts";
import {
  attemptOf,
  type Job,
  type JobStatus,
  occurrenceOf,
} from "../domain/job.ts";
import type { Rule } from "../domain/rule.ts";
import { retryDelayMs } from "../domain/rule_options.ts";
import { DETAIL, type Run, runMessage } from "../domain/run.ts";
import type { RunnerKind } from "../domain/runner.ts";
import { logger } from "../log.ts";
import type { JobEntry, JobStore, RunHistory } from "./job_store.ts";
import type { Counter, Journal, Metrics, Outcome } from "./ports.ts";
import type { UndoLog } from "./undo_log.ts";

const log = logger("scheduler");
/** Missed occurrences counted at start for the log, at most. */
const MISSED_MAX = 10_000;
const NS_PER_MS = 1e6;
const INTERRUPTED =
  "interrupted: the daemon stopped before the execution ended";
/** The reason logged, and the run's message, when no rule matches. */
export const NO_RULE = "no rule matches";

/** What recording outcomes needs. */
export interface OutcomesOptions {
  readonly store: JobStore;
  readonly journal: Journal;
  readonly undoLog: UndoLog;
  readonly metrics: Metrics;
  /** Uniform in [0, 1): the jitter of retry delays (spec: extensions.md §2). */
  readonly random: () => number;
  /**
   * Takes a job back whose record after `triggered` could not be
   * committed: it is `triggered` again, so it runs again (at-least-once).
   */
  readonly requeue: (entry: JobEntry) => void;
}

/** An execution: its job as stored and as its runner saw it, and its rule. */
export interface Ran {
  /** The stored version of the job when it was triggered. */
  readonly entry: JobEntry;
  /**
   * The job's history when it was triggered: a job whose history is another
   * one now was removed meanwhile (`undefined` when none is kept).
   */
  readonly history: RunHistory | undefined;
  readonly job: Job;
  readonly rule: Rule;
}

/** When an execution ran and how it ended. */
export interface Ended {
  readonly outcome: Outcome;
  readonly startedNs: bigint;
  readonly endedNs: bigint;
}

/**
 * The records of what happened to a job: status changes, retries and runs,
 * each applied to the store at once and undone if its journal group fails
 * (spec: persistence.md §4–§5, extensions.md §2–§3). A run is appended
 * right after the status change it explains, so both share a group.
 */
export class Outcomes {
  readonly #options: OutcomesOptions;
  readonly #retries = new Map<RunnerKind, Counter>();
  #runsRecorded = 0;
  readonly #runCounter: Counter = { add: () => void this.#runsRecorded++ };

  constructor(options: OutcomesOptions) {
    this.#options = options;
  }

  /** Runs committed since start (STAT `runs_recorded`). */
  get runsRecorded(): number {
    return this.#runsRecorded;
  }

  /** Changes a stored job's status and records it; undone if not durable. */
  transition(entry: JobEntry, status: JobStatus): Promise<void> {
    const { store, journal, undoLog } = this.#options;
    const before = entry.status;
    store.setStatus(entry, status);
    const job = jobValue(entry, status);
    return undoLog.track(journal.append({ kind: "set", job }), () => {
      if (!store.isCurrent(entry) || entry.status !== status) return;
      store.setStatus(entry, before);
      if (before === "planned") store.replan(entry);
      if (before === "triggered") this.#options.requeue(entry);
    });
  }

  /**
   * Records the end of an execution: `executed`, a retry when its rule has
   * retries left, or `failed`, then its run; for a job re-set meanwhile
   * only the run (its status stays as the SET left it), for one removed
   * meanwhile nothing (spec: runners.md §1, extensions.md §2–§3).
   */
  finished({ entry, history, job, rule }: Ran, ended: Ended): void {
    const current = this.#options.store.job(entry.id);
    if (current === undefined || current.history !== history) {
      log.debug(`outcome of job ${entry.id} discarded: job was removed`);
      return;
    }
    const run = executionRun(job, rule, ended);
    if (current !== entry || entry.status !== "triggered") {
      log.debug(`outcome of job ${entry.id} discarded: job was re-set`);
      this.record(current, run);
      return;
    }
    const retry = !ended.outcome.ok &&
      attemptOf(entry) <= (rule.options?.retries ?? 0);
    const holder = retry
      ? this.#retry(entry, rule, ended.endedNs)
      : this.#end(entry, ended.outcome.ok, ended.endedNs);
    this.record(holder, run);
  }

  /** A due job no rule matches: `failed`, with a `no-rule` run. */
  noRule(entry: JobEntry, nowNs: bigint): void {
    const holder = this.#end(entry, false, nowNs);
    this.record(holder, handledRun(entry, nowNs, DETAIL.noRule));
  }

  /**
   * A recurring job found due at start, its occurrences missed while the
   * daemon was down (spec: extensions.md §4): with `skip` planned at its
   * first occurrence after now without running; with `once` due at once
   * for the latest missed occurrence, so one run stands for them all. The
   * count is logged.
   */
  missed(entry: JobEntry, nowNs: bigint): void {
    const schedule = entry.schedule!;
    const missed = countPast(schedule, entry.executionNs, nowNs, MISSED_MAX);
    const count = missed >= MISSED_MAX ? `${MISSED_MAX} or more` : missed;
    const what = schedule.catchup === "skip" ? "skipped" : "run once";
    log.info(
      `recurring job ${entry.id}: ${count} missed occurrence(s) ${what}`,
      { job: entry.id, missed },
    );
    const latest = schedule.catchup === "skip"
      ? undefined
      : latestOccurrence(schedule, nowNs);
    if (schedule.catchup === "skip") this.#replan(entry, nowNs);
    else if (latest !== undefined && latest > entry.executionNs) {
      const { store } = this.#options;
      this.#plan(
        entry,
        store.putJob(entry.id, latest, "planned", { schedule }).entry,
      );
    }
  }

  /**
   * The end of a job's last attempt: `executed` or `failed`, or, for a
   * recurring job, planned again; returns the job's version that holds
   * the run.
   */
  #end(entry: JobEntry, ok: boolean, nowNs: bigint): JobEntry {
    if (entry.schedule !== undefined) return this.#replan(entry, nowNs);
    this.transition(entry, ok ? "executed" : "failed").catch(ignore);
    return entry;
  }

  /**
   * Plans a recurring job's next execution, attempt 1, as its `catchup`
   * policy says, in one `SET … planned` record (spec: extensions.md §4);
   * the span of the CRON that scheduled it goes with it. Without any
   * further occurrence the job ends `failed`, one-shot.
   */
  #replan(entry: JobEntry, nowNs: bigint): JobEntry {
    const schedule = entry.schedule!;
    const executionNs = nextPlanned(schedule, occurrenceOf(entry), nowNs);
    if (executionNs === undefined) {
      log.warn(`recurring job ${entry.id} has no further occurrence`);
    }
    const { store } = this.#options;
    return this.#plan(
      entry,
      executionNs === undefined
        ? store.putJob(entry.id, entry.executionNs, "failed").entry
        : store.putJob(entry.id, executionNs, "planned", { schedule }).entry,
    );
  }

  /**
   * Records `next`, the new version of a recurring job stored in place of
   * `entry`, with its span; undone (back to `entry`) if not durable.
   */
  #plan(entry: JobEntry, next: JobEntry): JobEntry {
    const { store, journal, undoLog } = this.#options;
    if (entry.setSpan !== undefined) next.setSpan = entry.setSpan;
    const job = jobValue(next);
    undoLog.track(journal.append({ kind: "set", job }), () => {
      if (!store.isCurrent(next)) return;
      store.restoreJob(entry);
      if (entry.status === "triggered") this.#options.requeue(entry);
    }).catch(ignore);
    return next;
  }

  /**
   * A job found `triggered` at start: an `interrupted` run, and `failed`
   * too unless it runs again (spec: persistence.md §6, extensions.md §3).
   */
  interrupted(entry: JobEntry, nowNs: bigint, rerun: boolean): void {
    const holder = rerun ? entry : this.#end(entry, false, nowNs);
    this.record(holder, handledRun(entry, nowNs, DETAIL.interrupted));
  }

  /**
   * Adds a run to a job's history and records it; nothing when `history`
   * is 0.
   */
  record(entry: JobEntry, run: Run): void {
    const { store, journal, undoLog } = this.#options;
    if (store.historyLimit === 0) return;
    const before = store.addRun(entry, run);
    undoLog.track(
      journal.append({ kind: "run", run }),
      () => store.restoreRuns(entry, before),
      this.#runCounter,
    ).catch(ignore);
  }

  /**
   * Plans the next attempt of a failed job at `end + delay` and records it
   * in one `SET … planned attempt=<k+1>` record; returns the new version
   * of the job (spec: extensions.md §2).
   */
  #retry(entry: JobEntry, rule: Rule, endedNs: bigint): JobEntry {
    const { store, journal, undoLog, random } = this.#options;
    const failed = attemptOf(entry);
    const attempt = failed + 1;
    const delayMs = retryDelayMs(rule.options, failed, random());
    const executionNs = endedNs + BigInt(Math.floor(delayMs * NS_PER_MS));
    const next = store.putJob(entry.id, executionNs, "planned", {
      attempt,
      schedule: entry.schedule,
      occurrenceNs: entry.schedule && occurrenceOf(entry),
    }).entry;
    if (entry.setSpan !== undefined) next.setSpan = entry.setSpan;
    log.info(
      `job ${entry.id} attempt ${failed} failed, attempt ${attempt} in ${
        Math.round(delayMs)
      } ms`,
    );
    const job = jobValue(next);
    undoLog.track(journal.append({ kind: "set", job }), () => {
      if (!store.isCurrent(next)) return;
      store.restoreJob(entry);
      this.#options.requeue(entry);
    }, this.#retriesOf(rule.runner.kind)).catch(ignore);
    return next;
  }

  #retriesOf(kind: RunnerKind): Counter {
    let counter = this.#retries.get(kind);
    if (counter === undefined) {
      counter = this.#options.metrics.counter("retries_total", {
        runner: kind,
      });
      this.#retries.set(kind, counter);
    }
    return counter;
  }
}

/** A stored job as a value: `attempt` only when above 1, as records show it. */
export function jobValue(entry: JobEntry, status = entry.status): Job {
  const { id, executionNs, attempt, schedule, occurrenceNs } = entry;
  const job: { -readonly [K in keyof Job]: Job[K] } = {
    id,
    executionNs,
    status,
  };
  if (attempt !== undefined && attempt > 1) job.attempt = attempt;
  if (schedule !== undefined) job.schedule = schedule;
  if (occurrenceNs !== undefined) job.occurrenceNs = occurrenceNs;
  return job;
}

/** The run of an execution that ended. */
function executionRun(job: Job, rule: Rule, ended: Ended): Run {
  const { outcome } = ended;
  return {
    jobId: job.id,
    attempt: job.attempt ?? 1,
    startedNs: ended.startedNs,
    endedNs: ended.endedNs,
    outcome: outcome.ok ? "executed" : "failed",
    ruleId: rule.id,
    detail: outcome.detail,
    message: outcome.ok ? "" : runMessage(outcome.reason, outcome.stderr),
  };
}

/** The run of a job handled without an execution: no rule, interrupted. */
function handledRun(
  entry: JobEntry,
  nowNs: bigint,
  detail: typeof DETAIL.noRule | typeof DETAIL.interrupted,
): Run {
  return {
    jobId: entry.id,
    attempt: attemptOf(entry),
    startedNs: nowNs,
    endedNs: nowNs,
    outcome: "failed",
    ruleId: "",
    detail,
    message: detail === DETAIL.noRule ? NO_RULE : INTERRUPTED,
  };
}

// A record that could not be committed was undone by the undo log; the
// journal logs the failure and enters read-only mode.
function ignore(): void {}
