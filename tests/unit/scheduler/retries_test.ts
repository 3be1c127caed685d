/** Retries through the scheduler on test doubles (spec: extensions.md §2). */
import assert from "node:assert/strict";
import {
  exited,
  fixture,
  MS,
  SECOND,
  T0,
} from "../../_helpers/scheduler_fixture.ts";
import { settle } from "../../_helpers/doubles.ts";

Deno.test("Scheduler retries a failed attempt at end + backoff × 2^(k-1) × (1 + jitter), then fails", async () => {
  const f = fixture({ random: () => 0.05 });
  f.request("RULE SET r hook. retries=2 backoff=1s shell x");
  f.request(`SET hook.1 ${T0}`);
  await f.tick();
  f.clock.ns = T0 + 100n * MS;
  await f.finish(0, exited(1, "oops\n"));
  const retry1 = T0 + 100n * MS + 1050n * MS;
  assert.equal(f.request("GET hook.1"), `OK planned ${retry1}`);
  assert.deepEqual(f.journal.groups.at(-1), [
    `SET hook.1 ${retry1} planned attempt=2`,
    `RUN hook.1 1 ${T0} ${
      T0 + 100n * MS
    } failed r exit:1 "exited with code 1: oops"`,
  ]);
  assert.equal(
    f.registry.counterValue("retries_total", { runner: "shell" }),
    1,
  );

  f.clock.ns = retry1 - 1n;
  await f.tick();
  assert.equal(f.executor.started.length, 1, "not before its time");
  f.clock.ns = retry1;
  await f.tick();
  assert.equal(f.executor.started[1]!.execution.job.attempt, 2);
  assert.equal(
    f.journal.lines.at(-1),
    `SET hook.1 ${retry1} triggered attempt=2`,
  );
  f.clock.ns = retry1 + 10n * MS;
  await f.finish(1, exited(1));
  const retry2 = retry1 + 10n * MS + 2100n * MS;
  assert.equal(f.request("GET hook.1"), `OK planned ${retry2}`);

  f.clock.ns = retry2;
  await f.tick();
  assert.equal(f.executor.started[2]!.execution.job.attempt, 3);
  f.clock.ns = retry2 + 5n * MS;
  await f.finish(2, exited(2));
  assert.equal(f.request("GET hook.1"), `OK failed ${retry2}`);
  assert.deepEqual(f.journal.groups.at(-1), [
    `SET hook.1 ${retry2} failed attempt=3`,
    `RUN hook.1 3 ${retry2} ${
      retry2 + 5n * MS
    } failed r exit:2 "exited with code 2"`,
  ]);
  assert.deepEqual(f.request("HISTORY hook.1").split("\n"), [
    `1 ${T0} ${T0 + 100n * MS} failed r exit:1`,
    `2 ${retry1} ${retry1 + 10n * MS} failed r exit:1`,
    `3 ${retry2} ${retry2 + 5n * MS} failed r exit:2`,
    "OK",
  ]);
  assert.deepEqual(f.runs("hook.1").map((run) => run.message), [
    "",
    "",
    "exited with code 2",
  ]);
  assert.equal(
    f.registry.counterValue("retries_total", { runner: "shell" }),
    2,
  );
  assert.equal(f.scheduler.stats().runsRecorded, 3);
});

Deno.test("Scheduler caps retry delays at max_backoff, jitter included", async () => {
  const f = fixture({ random: () => 0.0999 });
  f.request("RULE SET r j. retries=3 backoff=1s max_backoff=1500ms shell x");
  f.request(`SET j.1 ${T0}`);
  const delays: bigint[] = [];
  for (let k = 0; k < 3; k++) {
    await f.tick();
    const ended = f.clock.ns;
    await f.finish(k, exited(1));
    const planned = BigInt(f.request("GET j.1").split(" ")[2]!);
    delays.push(planned - ended);
    f.clock.ns = planned;
  }
  assert.deepEqual(delays, [1099_900_000n, 1500n * MS, 1500n * MS]);
});

Deno.test("Scheduler ends a retried job executed when a later attempt succeeds", async () => {
  const f = fixture();
  f.request("RULE SET r j. retries=5 backoff=10ms shell x");
  f.request(`SET j.1 ${T0}`);
  await f.tick();
  await f.finish(0, exited(7));
  f.clock.ns = T0 + SECOND;
  await f.tick();
  await f.finish(1, exited(0));
  assert.equal(f.request("GET j.1").split(" ")[1], "executed");
  assert.match(f.journal.groups.at(-1)![0]!, / executed attempt=2$/);
  assert.deepEqual(f.runs("j.1").map((run) => [run.attempt, run.detail]), [
    [1, "exit:7"],
    [2, "exit:0"],
  ]);
});

Deno.test("Scheduler fails at once without retries, and never retries a job no rule matches", async () => {
  const f = fixture();
  f.request("RULE SET r j. shell x");
  f.request(`SET j.1 ${T0}`);
  f.request(`SET lonely ${T0}`);
  await f.tick();
  await f.finish(0, exited(1));
  assert.equal(f.request("GET j.1"), `OK failed ${T0}`);
  assert.equal(f.request("GET lonely"), `OK failed ${T0}`);
  assert.equal(
    f.request("HISTORY lonely"),
    `1 ${T0} ${T0} failed  no-rule\nOK`,
  );
  assert.equal(f.registry.counterValue("no_rule_total"), 1);
  assert.equal(
    f.registry.counterValue("retries_total", { runner: "shell" }),
    0,
  );
});

Deno.test("Scheduler selects the rule anew at each retry; with none, the retry ends no-rule", async () => {
  const f = fixture();
  f.request("RULE SET a j. retries=3 backoff=1s shell first");
  f.request(`SET j.1 ${T0}`);
  await f.tick();
  await f.finish(0, exited(1));
  f.request("RULE SET b j.1 shell second");
  f.clock.ns = T0 + 2n * SECOND;
  await f.tick();
  const second = f.executor.started[1]!.execution;
  assert.equal(second.rule.id, "b");
  assert.equal(second.job.attempt, 2);
  // Rule b has no retries: the decision follows the rule that ran attempt 2.
  await f.finish(1, exited(1));
  assert.equal(f.request("GET j.1"), `OK failed ${T0 + 1050n * MS}`);

  const g = fixture();
  g.request("RULE SET a j. retries=3 backoff=1s shell x");
  g.request(`SET j.1 ${T0}`);
  await g.tick();
  await g.finish(0, exited(1));
  g.request("REMOVERULE a");
  g.clock.ns = T0 + 2n * SECOND;
  await g.tick();
  const at = T0 + 2n * SECOND;
  assert.equal(g.request("GET j.1"), `OK failed ${T0 + 1050n * MS}`);
  assert.equal(
    g.request("HISTORY j.1").split("\n")[1],
    `2 ${at} ${at} failed  no-rule`,
  );
  assert.equal(
    g.journal.lines.at(-2),
    `SET j.1 ${T0 + 1050n * MS} failed attempt=2`,
  );
});

Deno.test("Scheduler: a SET during the wait starts over at attempt 1, a REMOVE ends it", async () => {
  const f = fixture();
  f.request("RULE SET r j. retries=3 backoff=1s shell x");
  f.request(`SET j.1 ${T0}`);
  f.request(`SET j.2 ${T0}`);
  await f.tick();
  await f.finish(0, exited(1));
  await f.finish(1, exited(1));
  const later = T0 + 60n * SECOND;
  assert.equal(f.request(`SET j.1 ${later}`), "OK");
  assert.equal(f.request("REMOVE j.2"), "OK");
  await settle();
  assert.equal(f.journal.lines.at(-2), `SET j.1 ${later} planned`);
  f.clock.ns = T0 + 10n * SECOND;
  await f.tick();
  assert.equal(f.executor.started.length, 2, "no retry ran");
  assert.equal(f.request("HISTORY j.1").split("\n").length, 2, "SET kept it");
  assert.equal(f.request("HISTORY j.2"), "ERROR");
  f.clock.ns = later;
  await f.tick();
  assert.equal(f.executor.started[2]!.execution.job.attempt ?? 1, 1);
});

Deno.test("Scheduler does not retry a job re-SET while it ran, but records the run", async () => {
  const f = fixture();
  f.request("RULE SET r j. retries=3 backoff=1s shell x");
  f.request(`SET j.1 ${T0}`);
  await f.tick();
  const later = T0 + 60n * SECOND;
  f.request(`SET j.1 ${later}`);
  await f.finish(0, exited(1));
  assert.equal(f.request("GET j.1"), `OK planned ${later}`);
  assert.deepEqual(f.journal.groups.at(-1), [
    `RUN j.1 1 ${T0} ${T0} failed r exit:1 "exited with code 1"`,
  ]);
  assert.equal(
    f.registry.counterValue("retries_total", { runner: "shell" }),
    0,
  );
});

Deno.test("Scheduler re-runs an interrupted job with the attempt it had, or fails it without retry", async () => {
  for (const mode of ["rerun", "fail"] as const) {
    const f = fixture({ onInterrupted: mode });
    f.restore({
      kind: "ruleSet",
      rule: {
        id: "r",
        pattern: "j.",
        options: { retries: 3, backoffMs: 1000 },
        runner: { kind: "shell", command: "x" },
      },
    });
    f.restore({
      kind: "set",
      job: { id: "j.1", executionNs: T0, status: "triggered", attempt: 3 },
    });
    f.scheduler.settleInterrupted();
    await settle();
    assert.deepEqual(
      f.journal.groups[0]!.at(-1),
      `RUN j.1 3 ${T0} ${T0} failed "" interrupted "interrupted: the daemon stopped before the execution ended"`,
    );
    await f.tick();
    if (mode === "fail") {
      assert.equal(f.journal.groups[0]![0], `SET j.1 ${T0} failed attempt=3`);
      assert.equal(f.executor.started.length, 0);
      assert.equal(f.request("GET j.1"), `OK failed ${T0}`);
      continue;
    }
    assert.equal(f.executor.started[0]!.execution.job.attempt, 3);
    await f.finish(0, exited(1));
    assert.equal(
      f.journal.groups.at(-1)![0],
      `SET j.1 ${T0 + 4200n * MS} planned attempt=4`,
    );
    await f.scheduler.stop(0);
  }
});

Deno.test("Scheduler: a rule's timeout replaces the configured one; a timeout is retried like any failure", async () => {
  const f = fixture({ timeoutMs: 60_000 });
  f.request("RULE SET r j. retries=1 backoff=1ms timeout=20ms shell x");
  f.request(`SET j.1 ${T0}`);
  await f.tick();
  await new Promise((resolve) => setTimeout(resolve, 60));
  await settle();
  const [run] = f.runs("j.1");
  assert.equal(run?.detail, "timeout");
  assert.match(run!.message, /^TimeoutError: timed out after 0.02 s/);
  assert.equal(f.request("GET j.1").split(" ")[1], "planned");

  const g = fixture({ timeoutMs: 20 });
  g.request("RULE SET r j. timeout=0 shell x");
  g.request(`SET j.1 ${T0}`);
  await g.tick();
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(
    g.request("GET j.1"),
    `OK triggered ${T0}`,
    "timeout=0: no limit",
  );
  await g.scheduler.stop(0);
});

Deno.test("Scheduler undoes a retry whose group failed: triggered again, no run, re-run once writable", async () => {
  const f = fixture();
  f.request("RULE SET r j. retries=1 backoff=1s shell x");
  f.request(`SET j.1 ${T0}`);
  await f.tick();
  const committed = f.journal.lines.length;
  f.journal.failNextGroup = true;
  await f.finish(0, exited(1));
  assert.equal(f.journal.lines.length, committed);
  assert.equal(f.request("GET j.1"), `OK triggered ${T0}`);
  assert.deepEqual(f.runs("j.1"), []);
  assert.equal(
    f.registry.counterValue("retries_total", { runner: "shell" }),
    0,
  );
  assert.equal(f.scheduler.stats().runsRecorded, 0);
  f.journal.writable = true;
  await f.tick();
  assert.equal(f.executor.started.length, 2, "at least once: it runs again");
  assert.equal(f.executor.started[1]!.execution.job.attempt ?? 1, 1);
});
