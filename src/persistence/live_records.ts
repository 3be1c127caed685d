import type { Mutation } from "../domain/mutation.ts";

/**
 * The last record of each job id and of each rule id, in file order: what
 * `dump --compact` prints (spec: persistence.md §10).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LiveRecords } from "./live_records.ts";
 *
 * const live = new LiveRecords();
 * live.add({ kind: "set", job: { id: "a", executionNs: 1n, status: "planned" } });
 * live.add({ kind: "remove", jobId: "a" });
 * live.add({ kind: "removeRule", ruleId: "r" });
 * assert.deepEqual([...live.take()], []);
 * ```
 */
export class LiveRecords {
  readonly #jobs = new Map<string, [number, Mutation]>();
  readonly #rules = new Map<string, [number, Mutation]>();
  #count = 0;

  /** Keeps `mutation` as the last record of its id. */
  add(mutation: Mutation): void {
    const [map, id] = mutation.kind === "set"
      ? [this.#jobs, mutation.job.id]
      : mutation.kind === "remove"
      ? [this.#jobs, mutation.jobId]
      : mutation.kind === "ruleSet"
      ? [this.#rules, mutation.rule.id]
      : [this.#rules, mutation.ruleId];
    // Re-inserting keeps each map in the order of its last records.
    map.delete(id);
    map.set(id, [this.#count++, mutation]);
  }

  /** Merges both maps by position, leaving removals out. */
  *take(): Generator<Mutation> {
    const jobs = this.#jobs.values();
    const rules = this.#rules.values();
    let job = jobs.next();
    let rule = rules.next();
    while (!job.done || !rule.done) {
      let entry: [number, Mutation];
      if (rule.done || (!job.done && job.value[0] < rule.value[0])) {
        entry = job.value!;
        job = jobs.next();
      } else {
        entry = rule.value;
        rule = rules.next();
      }
      const mutation = entry[1];
      if (mutation.kind === "set" || mutation.kind === "ruleSet") {
        yield mutation;
      }
    }
  }
}
