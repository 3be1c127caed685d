/** Runs kept per job, HISTORY and the failed-runs list (spec: extensions.md §3). */
import assert from "node:assert/strict";
import type { Run } from "../../../src/domain/run.ts";
import { JobStore } from "../../../src/scheduler/job_store.ts";
import { FailedRuns } from "../../../src/scheduler/failed_runs.ts";
import {
  exited,
  fixture,
  SECOND,
  T0,
} from "../../_helpers/scheduler_fixture.ts";

function run(
  jobId: string,
  n: number,
  outcome: Run["outcome"] = "failed",
): Run {
  return {
    jobId,
    attempt: 1,
    startedNs: BigInt(n),
    endedNs: BigInt(n),
    outcome,
    ruleId: "r",
    detail: outcome === "failed" ? "exit:1" : "exit:0",
    message: `m${n}`,
  };
}

Deno.test("HISTORY lists a job's runs oldest first; no job, outside the namespace or empty id is ERROR", async () => {
  const f = fixture();
  f.request("RULE SET r j. shell x");
  f.request(`SET j.1 ${T0}`);
  f.request(`SET j.2 ${T0 + 100n * SECOND}`);
  assert.equal(f.request("HISTORY j.2"), "OK", "a job without runs");
  await f.tick();
  f.clock.ns = T0 + SECOND;
  await f.finish(0, exited(3, "boom"));
  assert.equal(
    f.request("HISTORY j.1"),
    `1 ${T0} ${T0 + SECOND} failed r exit:3\nOK`,
  );
  assert.equal(
    f.request("HISTORY j.1 surplus words"),
    f.request("HISTORY j.1"),
  );
  assert.equal(f.request("HISTORY nope"), "ERROR");
  assert.equal(f.request("HISTORY j.1", "k."), "ERROR");
  assert.equal(f.request("HISTORY j.1", "j."), f.request("HISTORY j.1"));
  assert.equal(f.request('HISTORY ""'), "ERROR");
  assert.equal(f.request("HISTORY"), "ERROR");
  const result = f.scheduler.commands.history("j.1", "k.");
  assert.equal(result.kind, "forbidden", "403 before 404 for HTTP");
  assert.equal(f.scheduler.commands.history("k.1", "k.").kind, "notFound");
});

Deno.test("JobStore keeps `history` runs per job, only the newest with its message", () => {
  const store = new JobStore({ history: 3 });
  store.apply({
    kind: "set",
    job: { id: "a", executionNs: 1n, status: "planned" },
  });
  for (let n = 1; n <= 5; n++) store.apply({ kind: "run", run: run("a", n) });
  const entry = store.job("a")!;
  assert.deepEqual(store.runsOf(entry).map((r) => [r.startedNs, r.message]), [
    [3n, ""],
    [4n, ""],
    [5n, "m5"],
  ]);
});

Deno.test("JobStore replay: a RUN for a missing job is ignored, SET keeps the history, REMOVE drops it", () => {
  const store = new JobStore();
  store.apply({ kind: "run", run: run("a", 1) });
  store.apply({
    kind: "set",
    job: { id: "a", executionNs: 1n, status: "planned" },
  });
  assert.deepEqual(store.runsOf(store.job("a")!), []);
  store.apply({ kind: "run", run: run("a", 2) });
  store.apply({
    kind: "set",
    job: { id: "a", executionNs: 9n, status: "planned", attempt: 2 },
  });
  assert.equal(store.job("a")!.attempt, 2);
  assert.equal(store.runsOf(store.job("a")!).length, 1);
  store.apply({ kind: "remove", jobId: "a" });
  store.apply({
    kind: "set",
    job: { id: "a", executionNs: 1n, status: "planned" },
  });
  assert.deepEqual(store.runsOf(store.job("a")!), []);
  assert.equal(
    store.latestFailedRuns(10, () => true).length,
    0,
    "gone from the index too",
  );
});

Deno.test("JobStore with history 0 keeps no runs", () => {
  const store = new JobStore({ history: 0 });
  store.apply({
    kind: "set",
    job: { id: "a", executionNs: 1n, status: "planned" },
  });
  store.apply({ kind: "run", run: run("a", 1) });
  assert.deepEqual(store.runsOf(store.job("a")!), []);
});

Deno.test("Scheduler with history 0 records no RUN", async () => {
  const f = fixture({ history: 0 });
  f.request("RULE SET r j. shell x");
  f.request(`SET j.1 ${T0}`);
  f.request(`SET lonely ${T0}`);
  await f.tick();
  await f.finish(0, exited(1));
  assert.ok(f.journal.lines.every((line) => !line.startsWith("RUN ")));
  assert.equal(f.request("HISTORY j.1"), "OK");
  assert.equal(f.scheduler.stats().runsRecorded, 0);
});

Deno.test("Scheduler records no run for a job removed while it ran, even if set again", async () => {
  const f = fixture();
  f.request("RULE SET r j. shell x");
  f.request(`SET j.1 ${T0}`);
  await f.tick();
  f.request("REMOVE j.1");
  f.request(`SET j.1 ${T0 + 100n * SECOND}`);
  await f.finish(0, exited(0));
  assert.equal(f.request("HISTORY j.1"), "OK");
  assert.ok(f.journal.lines.every((line) => !line.startsWith("RUN ")));
});

Deno.test("Scheduler undoes a run with its status change when their group fails", async () => {
  const f = fixture();
  f.request("RULE SET r j. shell x");
  f.request(`SET j.1 ${T0}`);
  await f.tick();
  f.journal.failNextGroup = true;
  await f.finish(0, exited(0));
  assert.equal(f.request("GET j.1"), `OK triggered ${T0}`);
  assert.equal(f.request("HISTORY j.1"), "OK");
});

Deno.test("failedRuns() lists the latest failed runs across jobs, newest first, inside the namespace", async () => {
  const f = fixture();
  f.request('RULE SET r "" shell x');
  for (const id of ["a.1", "b.1", "a.2"]) f.request(`SET ${id} ${T0}`);
  await f.tick();
  for (let i = 0; i < 3; i++) {
    f.clock.ns = T0 + BigInt(i + 1) * SECOND;
    await f.finish(i, i === 1 ? exited(0) : exited(1, `e${i}`));
  }
  const all = f.scheduler.commands.failedRuns(10, "*");
  assert.equal(all.kind, "runs");
  assert.deepEqual(
    all.kind === "runs" && all.runs.map((r) => [r.jobId, r.message]),
    [
      ["a.2", "exited with code 1: e2"],
      ["a.1", "exited with code 1: e0"],
    ],
  );
  const one = f.scheduler.commands.failedRuns(1, "a.");
  assert.deepEqual(one.kind === "runs" && one.runs.map((r) => r.jobId), [
    "a.2",
  ]);
  const none = f.scheduler.commands.failedRuns(5, "b.");
  assert.deepEqual(none.kind === "runs" && none.runs, []);
});

const HISTORY = { runs: [] };

Deno.test("FailedRuns answers from its index while it can, from a scan once it evicted older runs", () => {
  const index = new FailedRuns(2);
  const live = new Map<string, Run>();
  const add = (jobId: string, n: number) => {
    const item = { history: HISTORY, run: run(jobId, n) };
    live.set(`${jobId}/${n}`, item.run);
    index.add(item);
  };
  add("x.1", 1);
  add("y.1", 2);
  add("y.2", 3);
  add("y.3", 4); // x.1 was evicted
  let scans = 0;
  const source = {
    resolve: (item: { run: Run }) =>
      live.get(`${item.run.jobId}/${item.run.startedNs}`),
    scan: function* () {
      scans++;
      for (const run of live.values()) yield { history: HISTORY, run };
    },
  };
  const ids = (accept: (id: string) => boolean, limit = 2) =>
    index.latest(limit, { ...source, accept }).map((r) => r.jobId);
  assert.deepEqual(ids(() => true), ["y.3", "y.2"]);
  assert.equal(scans, 0);
  assert.deepEqual(ids((id) => id.startsWith("x.")), ["x.1"]);
  assert.equal(scans, 1, "the evicted run needed a scan");
  live.delete("y.3/4");
  assert.deepEqual(ids(() => true, 3), ["y.2", "y.1", "x.1"]);
});
