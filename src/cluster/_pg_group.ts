/**
 * A group of mutations as the few multi-row statements that commit it
 * (spec: cluster.md §2): the last mutation of each id wins, a removal
 * drops the job's kept runs, runs keep their order.
 *
 * @module
 */
import type { Job } from "../domain/job.ts";
import type { Mutation } from "../domain/mutation.ts";
import type { Rule } from "../domain/rule.ts";
import type { Run } from "../domain/run.ts";

/** What one group changes in the tables. */
export interface GroupWrites {
  /** Jobs deleted (with their runs) before the upserts. */
  readonly jobDeletes: string[];
  readonly jobUpserts: Job[];
  readonly ruleDeletes: string[];
  readonly ruleUpserts: Rule[];
  /** Runs inserted after the job changes, in append order. */
  readonly runs: Run[];
}

/**
 * Folds a group into its writes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupWrites } from "./_pg_group.ts";
 *
 * const job = { id: "a", executionNs: 1n, status: "planned" } as const;
 * const writes = groupWrites([
 *   { kind: "set", job },
 *   { kind: "remove", jobId: "a" },
 *   { kind: "set", job: { ...job, executionNs: 2n } },
 * ]);
 * assert.deepEqual(writes.jobDeletes, ["a"]);
 * assert.deepEqual(writes.jobUpserts, [{ ...job, executionNs: 2n }]);
 * ```
 */
export function groupWrites(mutations: readonly Mutation[]): GroupWrites {
  const jobDeletes = new Set<string>();
  const jobUpserts = new Map<string, Job>();
  const ruleDeletes = new Set<string>();
  const ruleUpserts = new Map<string, Rule>();
  let runs: Run[] = [];
  for (const mutation of mutations) {
    switch (mutation.kind) {
      case "set":
        jobUpserts.set(mutation.job.id, mutation.job);
        break;
      case "remove":
        jobUpserts.delete(mutation.jobId);
        jobDeletes.add(mutation.jobId);
        runs = runs.filter((run) => run.jobId !== mutation.jobId);
        break;
      case "ruleSet":
        ruleUpserts.set(mutation.rule.id, mutation.rule);
        break;
      case "removeRule":
        ruleUpserts.delete(mutation.ruleId);
        ruleDeletes.add(mutation.ruleId);
        break;
      case "run":
        runs.push(mutation.run);
        break;
    }
  }
  return {
    jobDeletes: [...jobDeletes],
    jobUpserts: [...jobUpserts.values()],
    ruleDeletes: [...ruleDeletes],
    ruleUpserts: [...ruleUpserts.values()],
    runs,
  };
}
