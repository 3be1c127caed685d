/** Recurring jobs through the scheduler on test doubles (spec: extensions.md §4). */
import assert from "node:assert/strict";
import { parseSchedule } from "../../../src/domain/schedule.ts";
import {
  exited,
  fixture,
  SECOND,
  T0,
} from "../../_helpers/scheduler_fixture.ts";

const TEN = 10n * SECOND;
/** The record fields of `*\/10 * * * * *` with a policy. */
const every10 = (catchup = "once") =>
  `"cron=*/10 * * * * *" tz=UTC catchup=${catchup}`;

Deno.test("CRON plans the first occurrence strictly after now, SET records carry the schedule, STAT counts it", async () => {
  const f = fixture();
  f.clock.ns = T0; // an occurrence itself: the next one is planned
  assert.equal(f.request('CRON a "*/10 * * * * *"'), "OK");
  assert.equal(f.request("GET a"), `OK planned ${T0 + TEN}`);
  assert.equal(f.store.recurringCount, 1);
  await f.tick();
  assert.deepEqual(f.journal.lines, [`SET a ${T0 + TEN} planned ${every10()}`]);
  assert.equal(
    f.request('CRON b "30 2 * * *" tz=Europe/Paris catchup=skip'),
    "OK",
  );
  // T0 is 04:00 in Paris (CEST): 02:30 tomorrow is 00:30Z
  const tomorrow = T0 + (22n * 3600n + 30n * 60n) * SECOND;
  assert.equal(f.request("GET b"), `OK planned ${tomorrow}`);
  assert.equal(f.request('CRON c "0 0 30 2 *"'), "ERROR", "no occurrence");
  assert.equal(f.request("GET c"), "ERROR");
  assert.equal(f.store.recurringCount, 2);
  await f.tick();
  assert.equal(f.registry.counterValue("jobs_scheduled_total"), 2);
});

Deno.test("after each run the job is planned again in the same group as its RUN, never executed or failed", async () => {
  const f = fixture();
  f.request("RULE SET r a shell x");
  f.request('CRON a "*/10 * * * * *"');
  f.clock.ns = T0 + TEN;
  await f.tick();
  assert.equal(f.request("GET a"), `OK triggered ${T0 + TEN}`);
  f.clock.ns = T0 + TEN + SECOND;
  await f.finish(0, exited(0));
  assert.equal(f.request("GET a"), `OK planned ${T0 + 2n * TEN}`);
  assert.deepEqual(f.journal.groups.at(-1), [
    `SET a ${T0 + 2n * TEN} planned ${every10()}`,
    `RUN a 1 ${T0 + TEN} ${T0 + TEN + SECOND} executed r exit:0 ""`,
  ]);
  f.clock.ns = T0 + 2n * TEN;
  await f.tick();
  f.clock.ns += SECOND;
  await f.finish(1, exited(3));
  assert.equal(f.request("GET a"), `OK planned ${T0 + 3n * TEN}`);
  const statuses = f.journal.lines
    .filter((line) => line.startsWith("SET a "))
    .map((line) => line.split(" ")[3]);
  assert.deepEqual([...new Set(statuses)].sort(), ["planned", "triggered"]);
  assert.equal(f.request("HISTORY a").split("\n").length, 3);
  assert.equal(f.store.counts.executed + f.store.counts.failed, 0);
});

Deno.test("runs never overlap; occurrences missed during a long run follow catchup: skip, once, all", async () => {
  const expected = {
    skip: T0 + 5n * TEN, // first after now (T0+45s)
    once: T0 + 4n * TEN, // latest past one, due at once
    all: T0 + 2n * TEN, // next after the handled one
  };
  for (const [catchup, next] of Object.entries(expected)) {
    const f = fixture();
    f.request("RULE SET r a shell x");
    f.request(`CRON a "*/10 * * * * *" catchup=${catchup}`);
    f.clock.ns = T0 + TEN;
    await f.tick();
    for (let at = T0 + TEN; at <= T0 + 45n * SECOND; at += SECOND) {
      f.clock.ns = at;
      await f.tick();
    }
    assert.equal(f.executor.started.length, 1, `${catchup}: no overlap`);
    await f.finish(0, exited(0));
    assert.equal(f.request("GET a"), `OK planned ${next}`, catchup);
    await f.tick();
    const due = next <= f.clock.ns;
    assert.equal(f.executor.started.length, due ? 2 : 1, catchup);
  }
});

Deno.test("a failed run retries with the rule's options, remembering its occurrence; after the last attempt the schedule goes on", async () => {
  const f = fixture({ random: () => 0 });
  f.request("RULE SET r a retries=1 backoff=2s shell x");
  f.request('CRON a "*/10 * * * * *" catchup=all');
  f.clock.ns = T0 + TEN;
  await f.tick();
  f.clock.ns = T0 + TEN + SECOND;
  await f.finish(0, exited(1));
  const retry = T0 + TEN + 3n * SECOND;
  assert.equal(f.request("GET a"), `OK planned ${retry}`);
  assert.equal(
    f.journal.groups.at(-1)![0],
    `SET a ${retry} planned attempt=2 ${every10("all")} occurrence=${T0 + TEN}`,
  );
  f.clock.ns = retry;
  await f.tick();
  assert.equal(f.executor.started[1]!.execution.job.attempt, 2);
  f.clock.ns = T0 + 25n * SECOND;
  await f.finish(1, exited(1));
  // all: the occurrence after the handled one (T0+10s), even if past
  assert.equal(f.request("GET a"), `OK planned ${T0 + 2n * TEN}`);
  assert.equal(
    f.journal.groups.at(-1)![0],
    `SET a ${T0 + 2n * TEN} planned ${every10("all")}`,
  );
  assert.deepEqual(
    f.request("HISTORY a").split("\n").map((line) => line.split(" ")[0]),
    ["1", "2", "OK"],
  );
});

Deno.test("a due recurring job no rule matches gets a no-rule run and is planned again", async () => {
  const f = fixture();
  f.request('CRON a "*/10 * * * * *"');
  f.clock.ns = T0 + TEN;
  await f.tick();
  assert.equal(f.request("GET a"), `OK planned ${T0 + 2n * TEN}`);
  assert.deepEqual(f.journal.lines.slice(-2), [
    `SET a ${T0 + 2n * TEN} planned ${every10()}`,
    `RUN a 1 ${T0 + TEN} ${T0 + TEN} failed "" no-rule "no rule matches"`,
  ]);
});

Deno.test("SET makes a recurring job one-shot, REMOVE removes it, CRON obeys namespaces, a CRON while it runs discards the outcome", async () => {
  const f = fixture();
  f.request("RULE SET r a shell x");
  f.request('CRON a.1 "*/10 * * * * *"');
  assert.equal(f.request(`SET a.1 ${T0 + 5n * SECOND}`), "OK");
  assert.equal(f.store.recurringCount, 0);
  f.clock.ns = T0 + 5n * SECOND;
  await f.tick();
  await f.finish(0, exited(0));
  assert.equal(f.request("GET a.1"), `OK executed ${T0 + 5n * SECOND}`);
  f.request('CRON a.2 "*/10 * * * * *"');
  assert.equal(f.request("REMOVE a.2"), "OK");
  assert.equal(f.request("GET a.2"), "ERROR");
  assert.equal(f.store.recurringCount, 0);
  assert.equal(f.request("CRON a.3 @daily", "b."), "ERROR");
  assert.equal(f.request("CRON b.3 @daily", "b."), "OK");
  // replaced while triggered: only the run is recorded
  f.request('CRON a.4 "*/10 * * * * *"');
  f.clock.ns = T0 + TEN;
  await f.tick();
  f.request("CRON a.4 @hourly");
  await f.finish(1, exited(0));
  assert.equal(f.request("GET a.4"), `OK planned ${T0 + 3600n * SECOND}`);
  assert.match(f.journal.lines.at(-1)!, /^RUN a\.4 1 /);
});

Deno.test("at start a missed skip job is planned after now without running; once and all run at once; an interrupted run is re-run", async () => {
  const f = fixture();
  f.request("RULE SET r a shell x");
  const missed = T0 - 50n * SECOND;
  for (const catchup of ["skip", "once", "all"] as const) {
    f.restore({
      kind: "set",
      job: {
        id: `a.${catchup}`,
        executionNs: missed,
        status: "planned",
        schedule: parseSchedule("*/10 * * * * *", { catchup }),
      },
    });
  }
  f.restore({
    kind: "set",
    job: {
      id: "a.crashed",
      executionNs: missed,
      status: "triggered",
      schedule: parseSchedule("*/10 * * * * *"),
    },
  });
  f.scheduler.settleInterrupted();
  assert.equal(f.request("GET a.skip"), `OK planned ${T0 + TEN}`);
  await f.tick();
  const ran = f.executor.started.map((s) => s.execution.job.id).sort();
  assert.deepEqual(ran, ["a.all", "a.crashed", "a.once"]);
  const executionOf = (id: string) =>
    f.executor.started.find((s) => s.execution.job.id === id)!.execution.job
      .executionNs;
  // once: one run for the latest missed occurrence; all: the first missed
  assert.equal(executionOf("a.once"), T0);
  assert.equal(executionOf("a.all"), missed);
  const crashed = f.executor.started.findIndex((s) =>
    s.execution.job.id === "a.crashed"
  );
  await f.finish(crashed, exited(0));
  // once: the latest past occurrence after the handled one
  assert.equal(f.request("GET a.crashed"), `OK planned ${T0}`);
  assert.deepEqual(
    f.request("HISTORY a.crashed").split("\n").map((l) => l.split(" ")[3]),
    ["failed", "executed", undefined],
  );
});

Deno.test("the span of the CRON that scheduled a job goes with it to its next occurrence", async () => {
  const f = fixture();
  f.request("RULE SET r a shell x");
  const span = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const schedule = parseSchedule("*/10 * * * * *");
  f.scheduler.commands.cron("a", schedule, "", span);
  f.clock.ns = T0 + TEN;
  await f.tick();
  await f.finish(0, exited(0));
  assert.equal(f.store.job("a")?.setSpan, span);
  assert.equal(f.request("GET a"), `OK planned ${T0 + 2n * TEN}`);
});

Deno.test("a re-planning group that fails to commit is undone: the job is triggered again, still recurring, nothing lost", async () => {
  const f = fixture();
  f.request("RULE SET r a shell x");
  f.request('CRON a "*/10 * * * * *"');
  f.clock.ns = T0 + TEN;
  await f.tick();
  f.journal.failNextGroup = true;
  await f.finish(0, exited(0));
  assert.equal(f.request("GET a"), `OK triggered ${T0 + TEN}`);
  assert.equal(f.store.recurringCount, 1);
  assert.equal(f.store.job("a")?.schedule?.expression, "*/10 * * * * *");
  assert.equal(f.request("HISTORY a"), "OK", "the run was undone too");
  assert.ok(!f.journal.lines.some((line) => line.startsWith("RUN ")));
});
