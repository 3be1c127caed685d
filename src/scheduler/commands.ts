import type { Command } from "../domain/command.ts";
import { firstOccurrence } from "../domain/cron.ts";
import type { Job, JobStatus } from "../domain/job.ts";
import type { Mutation } from "../domain/mutation.ts";
import { ANY_NAMESPACE, isInside } from "../domain/namespace.ts";
import { compareBytes, type Rule } from "../domain/rule.ts";
import { BinaryHeap } from "../heap.ts";
import type { Failure, Result, StatEntry } from "../domain/result.ts";
import type { JobStore } from "./job_store.ts";
import type { Schedule } from "../domain/schedule.ts";
import type { Clock, Counter, Journal, Metrics, TraceParent } from "./ports.ts";
import type { UndoLog } from "./undo_log.ts";

/** Which jobs `listJobs` returns (spec: http-api.md §4, `GET /jobs`). */
export interface JobFilter {
  /** Only ids that start with it; `""` for all. */
  readonly prefix: string;
  readonly status?: JobStatus;
  /** Only ids greater than this in byte order; sorts the list. */
  readonly after?: string;
  /** At most this many, the smallest ids first; sorts the list. */
  readonly limit?: number;
}

/** What the command layer works on. */
export interface CommandsOptions {
  readonly store: JobStore;
  readonly journal: Journal;
  readonly undoLog: UndoLog;
  readonly metrics: Metrics;
  /** Where CRON's first occurrence is counted from. */
  readonly clock: Clock;
  /** STAT's entries, in the spec's order (protocol.md §6). */
  readonly stat: () => readonly StatEntry[];
}

/** `GET /jobs?after=` without `limit` returns at most this many. */
const PAGE_DEFAULT = 1000;

const NO_SUCH_JOB: Failure = { kind: "notFound", reason: "no such job" };
const READ_ONLY: Failure = {
  kind: "readOnly",
  reason: "logfile is read-only after a write failure",
};

/**
 * Applies commands for every front door (TCP, HTTP): checks the namespace
 * and the journal, changes the store at once so later requests see it, and
 * records mutations, undone if their group fails (spec: protocol.md §6–§8,
 * persistence.md §5). Returns results, never wire text. No timers, no
 * clock, no I/O of its own.
 */
export class Commands {
  readonly #store: JobStore;
  readonly #journal: Journal;
  readonly #undoLog: UndoLog;
  readonly #stat: () => readonly StatEntry[];
  readonly #clock: Clock;
  readonly #scheduled: Counter;
  readonly #removed: Counter;

  constructor(options: CommandsOptions) {
    this.#store = options.store;
    this.#journal = options.journal;
    this.#undoLog = options.undoLog;
    this.#stat = options.stat;
    this.#clock = options.clock;
    this.#scheduled = options.metrics.counter("jobs_scheduled_total");
    this.#removed = options.metrics.counter("jobs_removed_total");
  }

  /**
   * Applies one command for a client bound to `namespace`; `span` is the
   * request's span, kept with a job it sets.
   */
  execute(
    command: Command,
    namespace: string = ANY_NAMESPACE,
    span?: TraceParent,
  ): Result {
    switch (command.kind) {
      case "set":
        return this.set(command.jobId, command.executionNs, namespace, span);
      case "get":
        return this.get(command.jobId, namespace);
      case "query":
        return this.query(command.prefix, namespace);
      case "remove":
        return this.remove(command.jobId, namespace);
      case "ruleSet":
        return this.ruleSet(command.rule, namespace);
      case "removeRule":
        return this.removeRule(command.ruleId, namespace);
      case "listRules":
        return this.listRules(namespace);
      case "stat":
        return { kind: "stats", entries: this.#stat() };
      case "history":
        return this.history(command.jobId, namespace);
      case "cron":
        return this.cron(command.jobId, command.schedule, namespace, span);
    }
  }

  /**
   * SET: creates or replaces a job, status `planned`; `span` is the span of
   * the request, linked from the job's executions.
   */
  set(
    jobId: string,
    executionNs: bigint,
    namespace: string,
    span?: TraceParent,
  ): Result {
    return this.#plan(jobId, executionNs, undefined, { namespace, span });
  }

  /**
   * CRON: creates or replaces a recurring job, planned at the schedule's
   * first occurrence after now; `invalid` when there is none within five
   * years (spec: extensions.md §4).
   */
  cron(
    jobId: string,
    schedule: Schedule,
    namespace: string,
    span?: TraceParent,
  ): Result {
    if (!isInside(namespace, jobId)) return outside(jobId);
    const executionNs = firstOccurrence(schedule, this.#clock.nowNs());
    if (executionNs === undefined) {
      return {
        kind: "invalid",
        reason: `"${schedule.expression}" has no occurrence in five years`,
      };
    }
    return this.#plan(jobId, executionNs, schedule, { namespace, span });
  }

  #plan(
    jobId: string,
    executionNs: bigint,
    schedule: Schedule | undefined,
    by: { namespace: string; span: TraceParent | undefined },
  ): Result {
    if (!isInside(by.namespace, jobId)) return outside(jobId);
    if (!this.#journal.writable) return READ_ONLY;
    const store = this.#store;
    const { entry, previous } = store.putJob(
      jobId,
      executionNs,
      "planned",
      schedule === undefined ? undefined : { schedule },
    );
    if (by.span !== undefined) entry.setSpan = by.span;
    const job: Job = schedule === undefined
      ? { id: entry.id, executionNs, status: "planned" }
      : { id: entry.id, executionNs, status: "planned", schedule };
    const committed = this.#record({ kind: "set", job }, () => {
      if (!store.isCurrent(entry)) return;
      if (previous) store.restoreJob(previous);
      else store.deleteJob(entry.id);
    }, this.#scheduled);
    return { kind: "done", committed, job };
  }

  /** GET: one job. */
  get(jobId: string, namespace: string): Result {
    const entry = this.#store.job(jobId);
    if (!entry || !isInside(namespace, entry.id)) return NO_SUCH_JOB;
    return { kind: "job", job: entry };
  }

  /** QUERY: the jobs whose id starts with `prefix`, inside the namespace. */
  query(prefix: string, namespace: string): Result {
    const jobs: Job[] = [];
    for (const entry of this.#store.jobs()) {
      if (entry.id.startsWith(prefix) && isInside(namespace, entry.id)) {
        jobs.push(entry);
      }
    }
    return { kind: "jobs", jobs };
  }

  /**
   * The jobs inside the namespace that `filter` selects: in unspecified
   * order, or, with `after` or `limit`, the `limit` smallest ids after
   * `after` (1000 when only `after` is given), sorted by id, picked in one
   * pass with a bounded heap so a page of a million jobs never sorts them
   * all.
   */
  listJobs(filter: JobFilter, namespace: string): Result {
    const { prefix, status, after } = filter;
    const paged = after !== undefined || filter.limit !== undefined;
    const limit = filter.limit ?? (paged ? PAGE_DEFAULT : Infinity);
    // The largest id kept is on top, so it is the one dropped.
    const page = new BinaryHeap<Job>((a, b) => compareBytes(a.id, b.id) > 0);
    const jobs: Job[] = [];
    for (const entry of this.#store.jobs()) {
      if (!entry.id.startsWith(prefix) || !isInside(namespace, entry.id)) {
        continue;
      }
      if (status !== undefined && entry.status !== status) continue;
      if (!paged) {
        jobs.push(entry);
        continue;
      }
      if (after !== undefined && compareBytes(entry.id, after) <= 0) continue;
      page.push(entry);
      if (page.size > limit) page.pop();
    }
    if (paged) {
      for (let job = page.pop(); job !== undefined; job = page.pop()) {
        jobs.push(job);
      }
      jobs.reverse();
    }
    return { kind: "jobs", jobs };
  }

  /**
   * Planned jobs per bucket of `bucketNs` from `startNs` on, `count`
   * buckets (the dashboard's upcoming jobs per hour, http-api.md §8).
   */
  upcoming(startNs: bigint, bucketNs: bigint, count: number): number[] {
    const buckets = new Array<number>(count).fill(0);
    const endNs = startNs + bucketNs * BigInt(count);
    for (const entry of this.#store.jobs()) {
      const { executionNs } = entry;
      if (entry.status !== "planned") continue;
      if (executionNs < startNs || executionNs >= endNs) continue;
      buckets[Number((executionNs - startNs) / bucketNs)]!++;
    }
    return buckets;
  }

  /**
   * HISTORY (and `GET /executions?job=`): a job's kept runs, oldest first;
   * `forbidden` outside the namespace, checked before `notFound` (spec:
   * extensions.md §3, http-api.md §7).
   */
  history(jobId: string, namespace: string): Result {
    if (!isInside(namespace, jobId)) return outside(jobId); // before notFound
    const entry = this.#store.job(jobId);
    if (!entry) return NO_SUCH_JOB;
    return { kind: "runs", runs: this.#store.runsOf(entry) };
  }

  /**
   * `GET /executions?failed=1&limit=n`: the latest `limit` failed runs of
   * the jobs inside the namespace, newest first by `ended` (spec:
   * http-api.md §7). The caller checks `limit` (1–1000).
   */
  failedRuns(limit: number, namespace: string): Result {
    const runs = this.#store.latestFailedRuns(
      limit,
      (jobId) => isInside(namespace, jobId),
    );
    return { kind: "runs", runs };
  }

  /** REMOVE: deletes a job, and its history with it. */
  remove(jobId: string, namespace: string): Result {
    const store = this.#store;
    const entry = store.job(jobId);
    if (!entry || !isInside(namespace, entry.id)) return NO_SUCH_JOB;
    if (!this.#journal.writable) return READ_ONLY;
    store.deleteJob(entry.id);
    const committed = this.#record({ kind: "remove", jobId: entry.id }, () => {
      if (store.job(entry.id) === undefined) store.restoreJob(entry);
    }, this.#removed);
    return { kind: "done", committed };
  }

  /** RULE SET: creates or replaces a rule. */
  ruleSet(rule: Rule, namespace: string): Result {
    if (!isInside(namespace, rule.id) || !isInside(namespace, rule.pattern)) {
      return outside(rule.id);
    }
    if (!this.#journal.writable) return READ_ONLY;
    const store = this.#store;
    const previous = store.putRule(rule);
    const committed = this.#record({ kind: "ruleSet", rule }, () => {
      if (store.rule(rule.id) !== rule) return;
      if (previous) store.putRule(previous);
      else store.deleteRule(rule.id);
    });
    return { kind: "done", committed, rule };
  }

  /** REMOVERULE: deletes a rule. */
  removeRule(ruleId: string, namespace: string): Result {
    const store = this.#store;
    const rule = store.rule(ruleId);
    if (!rule || !isInside(namespace, rule.id)) {
      return { kind: "notFound", reason: `no rule "${ruleId}"` };
    }
    if (!this.#journal.writable) return READ_ONLY;
    store.deleteRule(rule.id);
    const committed = this.#record(
      { kind: "removeRule", ruleId: rule.id },
      () => {
        if (store.rule(rule.id) === undefined) store.putRule(rule);
      },
    );
    return { kind: "done", committed };
  }

  /** LISTRULES: the rules whose id is inside the namespace. */
  listRules(namespace: string): Result {
    const rules: Rule[] = [];
    for (const rule of this.#store.rules()) {
      if (isInside(namespace, rule.id)) rules.push(rule);
    }
    return { kind: "rules", rules };
  }

  #record(
    mutation: Mutation,
    undo: () => void,
    counter?: Counter,
  ): Promise<void> {
    return this.#undoLog.track(this.#journal.append(mutation), undo, counter);
  }
}

function outside(identifier: string): Failure {
  return {
    kind: "forbidden",
    reason: `"${identifier}" is outside the namespace`,
  };
}
