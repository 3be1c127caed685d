import type { Run } from "../domain/run.ts";
import { BinaryHeap } from "../heap.ts";

/** A failed run as the index knows it, with the history it went into. */
export interface IndexedRun {
  /** Its job's history (a REMOVE ends it; a new job gets a new one). */
  readonly history: { readonly runs: readonly Run[] };
  readonly run: Run;
}

/**
 * Finds the run an index entry stands for in its job's current history
 * (the kept object: its message may have been cleared since); `undefined`
 * once the run was trimmed or its job removed.
 */
export type ResolveRun = (item: IndexedRun) => Run | undefined;

/** As many failed runs as `GET /executions?failed=1` may ask for. */
export const FAILED_RUNS_LIMIT = 1000;

/**
 * The latest failed runs across all jobs, newest first by `ended`, for the
 * failed-runs list (spec: http-api.md §7): a bounded index of the
 * {@link FAILED_RUNS_LIMIT} latest ones, checked against the histories when
 * read, with a full scan when the index cannot answer alone (a namespace
 * that sees fewer runs than asked for, once older runs were evicted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FailedRuns } from "./failed_runs.ts";
 *
 * const run = (jobId: string, endedNs: bigint) => ({
 *   jobId, attempt: 1, startedNs: 0n, endedNs, outcome: "failed",
 *   ruleId: "r", detail: "exit:1", message: "",
 * } as const);
 * const index = new FailedRuns();
 * const history = { runs: [] };
 * index.add({ history, run: run("a", 5n) });
 * index.add({ history, run: run("b", 7n) });
 * const latest = index.latest(10, {
 *   resolve: (item) => item.run,
 *   accept: () => true,
 *   scan: () => [],
 * });
 * assert.deepEqual(latest.map((r) => r.jobId), ["b", "a"]);
 * ```
 */
export class FailedRuns {
  readonly #capacity: number;
  /** Oldest on top, so the next one to evict is at hand. */
  #heap = new BinaryHeap<IndexedRun>(isOlder);
  /**
   * The latest end among failed runs left out of the index (evicted, or
   * older than all of it when added); `undefined` while none was.
   */
  #floorNs: bigint | undefined;

  constructor(capacity = FAILED_RUNS_LIMIT) {
    this.#capacity = capacity;
  }

  /** Indexes a failed run just recorded. */
  add(item: IndexedRun): void {
    this.#leftOut(keepNewest(this.#heap, item, this.#capacity));
  }

  /**
   * The latest `limit` failed runs whose job id `accept` takes, newest
   * first; `scan` lists every kept failed run, for when the index alone
   * cannot tell (it is rebuilt from that scan).
   */
  latest(
    limit: number,
    source: {
      readonly resolve: ResolveRun;
      readonly accept: (jobId: string) => boolean;
      readonly scan: () => Iterable<IndexedRun>;
    },
  ): Run[] {
    const floorNs = this.#floorNs;
    const sure: Run[] = [];
    this.#heap.filter((item) => {
      const run = source.resolve(item);
      if (
        run !== undefined && source.accept(run.jobId) &&
        (floorNs === undefined || run.endedNs >= floorNs)
      ) sure.push(run);
      return run !== undefined;
    });
    // Runs left out of the index ended before every run in `sure`.
    if (sure.length >= limit || floorNs === undefined) {
      return newestFirst(sure).slice(0, limit);
    }
    this.#heap = new BinaryHeap<IndexedRun>(isOlder);
    this.#floorNs = undefined;
    const matching = new BinaryHeap<IndexedRun>(isOlder);
    for (const item of source.scan()) {
      this.add(item);
      if (source.accept(item.run.jobId)) keepNewest(matching, item, limit);
    }
    const runs: Run[] = [];
    for (let item = matching.pop(); item; item = matching.pop()) {
      runs.push(item.run);
    }
    return runs.reverse();
  }

  #leftOut(item: IndexedRun | undefined): void {
    if (item === undefined) return;
    const endedNs = item.run.endedNs;
    if (this.#floorNs === undefined || endedNs > this.#floorNs) {
      this.#floorNs = endedNs;
    }
  }
}

/** Adds `item` to a heap of at most `capacity`; returns the one left out. */
function keepNewest(
  heap: BinaryHeap<IndexedRun>,
  item: IndexedRun,
  capacity: number,
): IndexedRun | undefined {
  if (heap.size < capacity) {
    heap.push(item);
    return undefined;
  }
  const oldest = heap.peek();
  if (oldest === undefined || !isOlder(oldest, item)) return item;
  heap.pop();
  heap.push(item);
  return oldest;
}

function isOlder(a: IndexedRun, b: IndexedRun): boolean {
  return a.run.endedNs < b.run.endedNs;
}

function newestFirst(runs: Run[]): Run[] {
  return runs.sort((a, b) =>
    a.endedNs < b.endedNs ? 1 : a.endedNs > b.endedNs ? -1 : 0
  );
}
