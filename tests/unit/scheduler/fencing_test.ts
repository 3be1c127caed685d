/**
 * A node that may no longer act as the leader (cluster.md §5: a paused
 * leader fires nothing after its lease ran out) starts no execution, even
 * one whose `triggered` record was committed before its lease ran out.
 */
import assert from "node:assert/strict";
import { fixture, T0 } from "../../_helpers/scheduler_fixture.ts";

Deno.test("a journal that may no longer act: a committed trigger starts no execution", async () => {
  const f = fixture();
  assert.equal(f.request('RULE SET r "" shell true'), "OK");
  assert.equal(f.request(`SET job.1 ${T0}`), "OK");
  // The lease runs out while the `triggered` record is being committed.
  f.journal.acting = false;
  await f.tick();
  assert.ok(f.journal.lines.some((line) => line.endsWith(" triggered")));
  assert.equal(f.executor.started.length, 0);
  await f.scheduler.stop(0);
});

Deno.test("control: the same trigger starts its execution while the node may act", async () => {
  const f = fixture();
  assert.equal(f.request('RULE SET r "" shell true'), "OK");
  assert.equal(f.request(`SET job.1 ${T0}`), "OK");
  await f.tick();
  assert.equal(f.executor.started.length, 1);
  f.executor.started[0]!.finish({ ok: true, detail: "exit:0" });
  await f.scheduler.stop(0);
});
