import type { Mutation } from "../domain/mutation.ts";
import { type Run, withRun } from "../domain/run.ts";

/**
 * The last record of each job id and of each rule id, in file order, then
 * the last runs of each live job: what `dump --compact` prints (spec:
 * persistence.md §10, extensions.md §5). Runs are kept as replay keeps
 * them: only for a job that exists when they come, at most `history` per
 * job, only the newest with its message, none after a REMOVE.
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
  readonly #runs = new Map<string, readonly Run[]>();
  readonly #history: number;
  #count = 0;

  /** `history`: runs kept per job (`dump --history`, default 10). */
  constructor(history = 10) {
    this.#history = history;
  }

  /** Keeps `mutation` as the last record of its id. */
  add(mutation: Mutation): void {
    if (mutation.kind === "run") return this.#addRun(mutation.run);
    const [map, id] = mutation.kind === "set"
      ? [this.#jobs, mutation.job.id]
      : mutation.kind === "remove"
      ? [this.#jobs, mutation.jobId]
      : mutation.kind === "ruleSet"
      ? [this.#rules, mutation.rule.id]
      : [this.#rules, mutation.ruleId];
    if (mutation.kind === "remove") this.#runs.delete(id);
    // Re-inserting keeps each map in the order of its last records.
    map.delete(id);
    map.set(id, [this.#count++, mutation]);
  }

  #addRun(run: Run): void {
    if (this.#jobs.get(run.jobId)?.[1].kind !== "set") return;
    const runs = withRun(this.#runs.get(run.jobId) ?? [], run, this.#history);
    if (runs.length > 0) this.#runs.set(run.jobId, runs);
  }

  /** Merges both maps by position, leaving removals out, then the runs. */
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
    for (const [id] of this.#jobs) {
      for (const run of this.#runs.get(id) ?? []) yield { kind: "run", run };
    }
  }
}
