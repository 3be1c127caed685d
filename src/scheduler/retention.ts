import type { Cancel, Clock, Counter, Journal, Timer } from "./ports.ts";
import type { JobEntry, JobStore } from "./job_store.ts";
import type { UndoLog } from "./undo_log.ts";
import { logger } from "../log.ts";

const log = logger("scheduler");

/** At most this many removals per check (spec: extensions.md §7). */
export const MAX_EXPIRED_PER_CHECK = 10_000;
/** Jobs looked at before the check gives the event loop a turn. */
const SLICE = 20_000;
/** Checks run at least this often. */
const MAX_INTERVAL_MS = 60_000;
const MIN_INTERVAL_MS = 1_000;

/** What retention works on. */
export interface RetentionOptions {
  readonly store: JobStore;
  readonly journal: Journal;
  readonly undoLog: UndoLog;
  readonly clock: Clock;
  readonly timer: Timer;
  /** Finished one-shot jobs older than this are removed; 0 = never. */
  readonly retentionMs: number;
}

/**
 * Removes finished one-shot jobs whose finish (the end of their last kept
 * run, else their execution time) lies longer ago than `retentionMs`, as
 * REMOVE does: a `REMOVE` record each, history included, undone if its
 * group fails. Checks at start, then every half retention (1 s to 1 min);
 * each check walks the jobs in slices, yielding between them, and stops
 * after {@link MAX_EXPIRED_PER_CHECK} removals (spec: extensions.md §7).
 */
export class Retention {
  readonly #options: RetentionOptions;
  readonly #intervalMs: number;
  readonly #expired: Counter = { add: () => void this.#expiredCount++ };
  #expiredCount = 0;
  #cancel: Cancel | undefined;
  #stopped = false;

  constructor(options: RetentionOptions) {
    this.#options = options;
    this.#intervalMs = Math.min(
      MAX_INTERVAL_MS,
      Math.max(MIN_INTERVAL_MS, Math.floor(options.retentionMs / 2)),
    );
  }

  /** Jobs removed by retention since start, once durable (STAT `jobs_expired`). */
  get expiredCount(): number {
    return this.#expiredCount;
  }

  /** Runs the first check now and the next ones on the timer; no-op at 0. */
  start(): void {
    if (this.#options.retentionMs === 0 || this.#stopped) return;
    this.#check(this.#options.store.jobs(), 0);
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
  }

  /** One slice of a check; the next slice, or the next check, is timed. */
  #check(jobs: Iterator<JobEntry>, removed: number): void {
    this.#cancel = undefined;
    if (this.#stopped) return;
    const { clock, journal, retentionMs } = this.#options;
    const cutoffNs = clock.nowNs() - BigInt(retentionMs) * 1_000_000n;
    let seen = 0;
    let done = !journal.writable;
    while (!done && seen < SLICE && removed < MAX_EXPIRED_PER_CHECK) {
      const next = jobs.next();
      if (next.done) done = true;
      else if (this.#expire(next.value, cutoffNs)) removed++;
      seen++;
    }
    if (done || removed >= MAX_EXPIRED_PER_CHECK) {
      if (removed > 0) log.debug(`retention: removing ${removed} jobs`);
      this.#cancel = this.#options.timer.after(
        this.#intervalMs,
        () => this.#check(this.#options.store.jobs(), 0),
      );
    } else {
      this.#cancel = this.#options.timer.soon(() => this.#check(jobs, removed));
    }
  }

  /**
   * Removes `entry` if it is a finished one-shot job and expired; tells
   * whether it did. A recurring job is never removed (extensions.md §7).
   */
  #expire(entry: JobEntry, cutoffNs: bigint): boolean {
    if (entry.status !== "executed" && entry.status !== "failed") return false;
    if (entry.schedule !== undefined) return false;
    const { store, journal, undoLog } = this.#options;
    if (!store.isCurrent(entry)) return false;
    const runs = store.runsOf(entry);
    const finishNs = runs.length > 0
      ? runs[runs.length - 1]!.endedNs
      : entry.executionNs;
    if (finishNs >= cutoffNs) return false;
    store.deleteJob(entry.id);
    undoLog.track(journal.append({ kind: "remove", jobId: entry.id }), () => {
      if (store.job(entry.id) === undefined) store.restoreJob(entry);
    }, this.#expired).catch(() => {
      // Undone by the undo log; the journal logged the failure.
    });
    return true;
  }
}
