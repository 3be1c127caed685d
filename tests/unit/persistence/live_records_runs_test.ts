/** LiveRecords with RUN records: the kept history of live jobs (spec: extensions.md §5). */
import assert from "node:assert/strict";
import type { Mutation } from "../../../src/domain/mutation.ts";
import type { Run } from "../../../src/domain/run.ts";
import { LiveRecords } from "../../../src/persistence/live_records.ts";
import { formatRecord } from "../../../src/persistence/record.ts";

function run(jobId: string, n: number): Mutation {
  const value: Run = {
    jobId,
    attempt: 1,
    startedNs: BigInt(n),
    endedNs: BigInt(n),
    outcome: "failed",
    ruleId: "r",
    detail: "exit:1",
    message: `m${n}`,
  };
  return { kind: "run", run: value };
}

const set = (id: string): Mutation => ({
  kind: "set",
  job: { id, executionNs: 1n, status: "failed" },
});

Deno.test({
  name:
    "LiveRecords keeps the last runs of each live job after the jobs, as replay keeps them",
  permissions: "none",
  fn() {
    const live = new LiveRecords(2);
    for (
      const record of [
        run("a", 0), // no job yet: ignored
        set("a"),
        run("a", 1),
        set("b"),
        run("b", 2),
        run("a", 3),
        run("a", 4),
        { kind: "remove", jobId: "b" },
        set("b"),
        set("c"),
        run("c", 5),
        { kind: "remove", jobId: "c" },
      ] satisfies Mutation[]
    ) live.add(record);
    assert.deepEqual([...live.take()].map(formatRecord), [
      "SET a 1 failed",
      "SET b 1 failed",
      'RUN a 1 3 3 failed r exit:1 ""',
      "RUN a 1 4 4 failed r exit:1 m4",
    ]);
  },
});

Deno.test({
  name: "LiveRecords with history 0 keeps no run",
  permissions: "none",
  fn() {
    const live = new LiveRecords(0);
    live.add(set("a"));
    live.add(run("a", 1));
    assert.deepEqual([...live.take()].map(formatRecord), ["SET a 1 failed"]);
  },
});
