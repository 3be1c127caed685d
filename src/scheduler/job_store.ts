import type { Job, JobStatus } from "../domain/job.ts";
import type { Mutation } from "../domain/mutation.ts";
import type { Rule } from "../domain/rule.ts";
import { isSameRun, type Run, withRun } from "../domain/run.ts";
import type { Schedule } from "../domain/schedule.ts";
import { BinaryHeap } from "../heap.ts";
import { FailedRuns, type IndexedRun } from "./failed_runs.ts";
import { JobTable } from "./job_table.ts";
import type { TraceParent } from "./ports.ts";

/**
 * A job's kept runs, oldest first (spec: extensions.md §3). The versions of
 * a job that SETs replace share one; a REMOVE ends it, so an execution can
 * tell whether its job was removed meanwhile.
 */
export interface RunHistory {
  runs: readonly Run[];
}

/**
 * A stored job; mutable so status changes need no new object per job. The
 * optional fields are added only to the jobs that need them (a retry, a
 * run), so a million jobs that never ran cost what they did before.
 */
export interface JobEntry extends Job {
  status: JobStatus;
  /** Set only above 1 (a retry). */
  attempt?: number;
  /** Set only for a recurring job (extensions.md §4). */
  readonly schedule?: Schedule;
  /** Set only when it differs from the execution time (a retry). */
  readonly occurrenceNs?: bigint;
  /** Order in which SETs were applied; breaks ties between due times. */
  readonly seq: number;
  /** Added when the job is first triggered or gets a run; kept by SETs. */
  history?: RunHistory;
  /**
   * The span of the SET that scheduled it, while telemetry is on; kept by
   * retries, in memory only (observability.md §2).
   */
  setSpan?: TraceParent;
}

/** What a new version of a job has besides its time and status. */
export interface JobExtras {
  /** Attempt of its next execution (default 1). */
  readonly attempt?: number;
  readonly schedule?: Schedule | undefined;
  /** The occurrence it stands for, when not its execution time. */
  readonly occurrenceNs?: bigint | undefined;
}

/** What a store keeps besides its contents. */
export interface JobStoreOptions {
  /** `[execution] history`: runs kept per job, 0 = none (default 10). */
  readonly history?: number;
}

/** The live views compaction writes (spec: persistence.md §7). */
export interface StoreSnapshot {
  readonly rules: Iterable<Rule>;
  /** The jobs, with their histories; each is read when written. */
  readonly jobs: Iterable<JobEntry>;
}

const NO_RUNS: readonly Run[] = [];
const NO_EXTRAS: JobExtras = {};

/** Re-SETs leave superseded heap items behind; beyond this many, drop them. */
const STALE_SLACK = 1024;

/**
 * Jobs, rules, counts by status, the due heap and the run histories: the
 * scheduler's state, with no timers, no clock and no journal (spec:
 * protocol.md §7, extensions.md §3). Replay fills it with {@link apply}
 * before anything else exists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JobStore } from "./job_store.ts";
 *
 * const store = new JobStore();
 * store.apply({ kind: "set", job: { id: "a", executionNs: 5n, status: "planned" } });
 * assert.equal(store.popDue(4n), undefined);
 * assert.equal(store.popDue(5n)?.id, "a");
 * assert.equal(store.counts.planned, 1);
 * ```
 */
export class JobStore {
  readonly #jobs = new JobTable<JobEntry>();
  readonly #rules = new Map<string, Rule>();
  readonly #heap = new BinaryHeap<JobEntry>(isBefore);
  readonly #counts: Record<JobStatus, number> = {
    planned: 0,
    triggered: 0,
    executed: 0,
    failed: 0,
  };
  #seq = 0;
  #recurring = 0;
  readonly #history: number;
  readonly #failed = new FailedRuns();
  /** Called when a planned job becomes the earliest one waiting. */
  onEarliest: (() => void) | undefined;

  constructor(options: JobStoreOptions = {}) {
    this.#history = options.history ?? 10;
  }

  /** Runs kept per job (`[execution] history`). */
  get historyLimit(): number {
    return this.#history;
  }

  /** Jobs by status (live: read, do not keep). */
  get counts(): Readonly<Record<JobStatus, number>> {
    return this.#counts;
  }

  /** Number of jobs. */
  get jobCount(): number {
    return this.#jobs.size;
  }

  /** Number of jobs with a schedule (STAT `jobs_recurring`). */
  get recurringCount(): number {
    return this.#recurring;
  }

  /** Number of rules. */
  get ruleCount(): number {
    return this.#rules.size;
  }

  /** Applies a replayed logfile record (spec: persistence.md §6). */
  apply(mutation: Mutation): void {
    switch (mutation.kind) {
      case "set": {
        const { id, executionNs, status } = mutation.job;
        this.putJob(id, executionNs, status, mutation.job);
        break;
      }
      case "run": {
        // A run is kept only for a job that exists at that point (§5).
        const entry = this.#jobs.get(mutation.run.jobId);
        if (entry !== undefined) this.addRun(entry, mutation.run);
        break;
      }
      case "remove":
        this.deleteJob(mutation.jobId);
        break;
      case "ruleSet":
        this.putRule(mutation.rule);
        break;
      case "removeRule":
        this.deleteRule(mutation.ruleId);
        break;
    }
  }

  /** The job with this id. */
  job(id: string): JobEntry | undefined {
    return this.#jobs.get(id);
  }

  /** Every job; order unspecified. */
  jobs(): IterableIterator<JobEntry> {
    return this.#jobs.values();
  }

  /** Tells whether `entry` is still the stored version of its job. */
  isCurrent(entry: JobEntry): boolean {
    return this.#jobs.get(entry.id) === entry;
  }

  /**
   * Stores a new version of a job, keeping the history of the one it
   * replaced; returns it and the one it replaced.
   */
  putJob(
    id: string,
    executionNs: bigint,
    status: JobStatus,
    extras: JobExtras = NO_EXTRAS,
  ): { entry: JobEntry; previous: JobEntry | undefined } {
    const { attempt = 1, schedule, occurrenceNs } = extras;
    const entry: JobEntry = schedule === undefined
      ? { id: ownCopy(id), executionNs, status, seq: ++this.#seq }
      : occurrenceNs === undefined || occurrenceNs === executionNs
      ? { id: ownCopy(id), executionNs, status, seq: ++this.#seq, schedule }
      : {
        id: ownCopy(id),
        executionNs,
        status,
        seq: ++this.#seq,
        schedule,
        occurrenceNs,
      };
    if (attempt > 1) entry.attempt = attempt;
    const previous = this.restoreJob(entry);
    if (previous?.history !== undefined) entry.history = previous.history;
    return { entry, previous };
  }

  /** Stores a given version of a job (an undo); returns the one replaced. */
  restoreJob(entry: JobEntry): JobEntry | undefined {
    const previous = this.#jobs.set(entry);
    if (previous) this.#forget(previous);
    this.#counts[entry.status]++;
    if (entry.schedule !== undefined) this.#recurring++;
    if (entry.status === "planned") this.replan(entry);
    return previous;
  }

  /** Removes a job; returns it. */
  deleteJob(id: string): JobEntry | undefined {
    const entry = this.#jobs.delete(id);
    if (entry) this.#forget(entry);
    return entry;
  }

  #forget(entry: JobEntry): void {
    this.#counts[entry.status]--;
    if (entry.schedule !== undefined) this.#recurring--;
  }

  /** Changes a stored job's status in place. */
  setStatus(entry: JobEntry, status: JobStatus): void {
    this.#counts[entry.status]--;
    entry.status = status;
    this.#counts[status]++;
  }

  /** Puts a planned job (back) into the due heap. */
  replan(entry: JobEntry): void {
    this.#heap.push(entry);
    if (this.#heap.peek() === entry) this.onEarliest?.();
    if (this.#heap.size > 2 * this.#jobs.size + STALE_SLACK) {
      this.#heap.filter((item) => this.#isWaiting(item));
    }
  }

  /** The planned job due first, if any. */
  nextDue(): JobEntry | undefined {
    for (;;) {
      const top = this.#heap.peek();
      if (top === undefined || this.#isWaiting(top)) return top;
      this.#heap.pop();
    }
  }

  /** Removes and returns the planned job due first if it is due at `nowNs`. */
  popDue(nowNs: bigint): JobEntry | undefined {
    const next = this.nextDue();
    if (next === undefined || next.executionNs > nowNs) return undefined;
    this.#heap.pop();
    return next;
  }

  /** A job's kept runs, oldest first. */
  runsOf(entry: JobEntry): readonly Run[] {
    return entry.history?.runs ?? NO_RUNS;
  }

  /** A job's history, created empty if it has none yet. */
  historyOf(entry: JobEntry): RunHistory {
    return entry.history ??= { runs: NO_RUNS };
  }

  /**
   * Records a run in a job's history (at most `historyLimit`, only the
   * newest with its message); returns the runs before, for an undo.
   */
  addRun(entry: JobEntry, run: Run): readonly Run[] {
    if (this.#history === 0) return this.runsOf(entry);
    const history = this.historyOf(entry);
    const before = history.runs;
    history.runs = withRun(before, run, this.#history);
    if (run.outcome === "failed") this.#failed.add({ history, run });
    return before;
  }

  /** Puts back the runs {@link addRun} returned. */
  restoreRuns(entry: JobEntry, runs: readonly Run[]): void {
    if (entry.history !== undefined) entry.history.runs = runs;
  }

  /**
   * The latest `limit` failed runs of the jobs `accept` takes, newest first
   * by `ended` (spec: http-api.md §7).
   */
  latestFailedRuns(limit: number, accept: (jobId: string) => boolean): Run[] {
    return this.#failed.latest(limit, {
      resolve: (item) => this.#resolve(item),
      accept,
      scan: () => this.#failedRuns(),
    });
  }

  /** The rule with this id. */
  rule(id: string): Rule | undefined {
    return this.#rules.get(id);
  }

  /** Every rule; order unspecified. */
  rules(): IterableIterator<Rule> {
    return this.#rules.values();
  }

  /** Stores a rule; returns the one it replaced. */
  putRule(rule: Rule): Rule | undefined {
    const previous = this.#rules.get(rule.id);
    this.#rules.set(rule.id, rule);
    return previous;
  }

  /** Removes a rule; returns it. */
  deleteRule(id: string): Rule | undefined {
    const rule = this.#rules.get(id);
    this.#rules.delete(id);
    return rule;
  }

  /**
   * Live views of the state, for compaction (spec: persistence.md §7).
   * Items are read when written; later changes follow as records.
   */
  snapshot(): StoreSnapshot {
    return { rules: this.#rules.values(), jobs: this.#jobs.values() };
  }

  *#histories(): Generator<JobEntry> {
    for (const entry of this.#jobs.values()) {
      if (entry.history !== undefined && entry.history.runs.length > 0) {
        yield entry;
      }
    }
  }

  *#failedRuns(): Generator<IndexedRun> {
    for (const entry of this.#histories()) {
      const history = entry.history!;
      for (const run of history.runs) {
        if (run.outcome === "failed") yield { history, run };
      }
    }
  }

  /** The kept run an index entry stands for, if its job still has it. */
  #resolve({ history, run }: IndexedRun): Run | undefined {
    if (this.#jobs.get(run.jobId)?.history !== history) return undefined;
    return history.runs.find((kept) => isSameRun(kept, run));
  }

  #isWaiting(entry: JobEntry): boolean {
    return this.#jobs.get(entry.id) === entry && entry.status === "planned";
  }
}

/** Due first: by time, then by the order SETs were applied (protocol.md §7). */
function isBefore(a: JobEntry, b: JobEntry): boolean {
  return a.executionNs < b.executionNs ||
    (a.executionNs === b.executionNs && a.seq < b.seq);
}

/**
 * A copy of an id that holds its own characters. An id cut from a request
 * line or a logfile chunk is a V8 slice that keeps the whole line or chunk
 * alive as long as the job lives (64 bytes more per job, measured). A JSON
 * round trip was the cheapest copy measured (~130 ns).
 */
function ownCopy(id: string): string {
  return JSON.parse(JSON.stringify(id));
}
