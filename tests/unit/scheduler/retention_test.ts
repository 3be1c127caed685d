/** Retention of finished one-shot jobs (spec: extensions.md §7). */
import assert from "node:assert/strict";
import type { JobStatus } from "../../../src/domain/job.ts";
import { parseSchedule } from "../../../src/domain/schedule.ts";
import { JobStore } from "../../../src/scheduler/job_store.ts";
import {
  MAX_EXPIRED_PER_CHECK,
  Retention,
} from "../../../src/scheduler/retention.ts";
import { UndoLog } from "../../../src/scheduler/undo_log.ts";
import { ManualClock, ManualTimer, settle } from "../../_helpers/doubles.ts";
import { GroupJournal, SECOND, T0 } from "../../_helpers/scheduler_fixture.ts";

const HOUR_MS = 3_600_000;

function setup(retentionMs = HOUR_MS) {
  const store = new JobStore();
  const journal = new GroupJournal();
  const clock = new ManualClock(T0);
  const timer = new ManualTimer();
  const retention = new Retention({
    store,
    journal,
    undoLog: new UndoLog(),
    clock,
    timer,
    retentionMs,
  });
  const job = (id: string, status: JobStatus, executionNs: bigint) =>
    store.apply({ kind: "set", job: { id, executionNs, status } });
  return { store, journal, clock, timer, retention, job };
}

const HOUR = 3600n * SECOND;

Deno.test("retention removes executed and failed jobs finished longer ago than it, as REMOVE records; planned, triggered and recent ones stay", async () => {
  const { store, journal, retention, job, timer } = setup();
  job("old.executed", "executed", T0 - 2n * HOUR);
  job("old.failed", "failed", T0 - HOUR - SECOND);
  job("old.planned", "planned", T0 - 2n * HOUR);
  job("old.triggered", "triggered", T0 - 2n * HOUR);
  job("recent.executed", "executed", T0 - HOUR + SECOND);
  // a job set long ago whose last run ended recently is not expired
  job("ran.late", "failed", T0 - 5n * HOUR);
  store.apply({
    kind: "run",
    run: {
      jobId: "ran.late",
      attempt: 3,
      startedNs: T0 - 10n * SECOND,
      endedNs: T0 - 9n * SECOND,
      outcome: "failed",
      ruleId: "r",
      detail: "exit:1",
      message: "",
    },
  });
  retention.start();
  assert.deepEqual(
    [...store.jobs()].map((entry) => entry.id).sort(),
    ["old.planned", "old.triggered", "ran.late", "recent.executed"],
  );
  assert.equal(retention.expiredCount, 0, "counted once durable");
  await settle();
  assert.deepEqual(journal.lines.sort(), [
    "REMOVE old.executed",
    "REMOVE old.failed",
  ]);
  assert.equal(retention.expiredCount, 2);
  assert.deepEqual(
    timer.pending.map((t) => [t.kind, t.delayMs]),
    [["after", 60_000]],
  );
});

Deno.test("retention removes at most 10,000 jobs per check; the next check takes the rest", async () => {
  const { store, journal, retention, job, timer } = setup();
  const backlog = MAX_EXPIRED_PER_CHECK + 50;
  for (let i = 0; i < backlog; i++) {
    job(`done.${i}`, "executed", T0 - 2n * HOUR);
  }
  retention.start();
  assert.equal(store.jobCount, 50);
  await settle();
  assert.equal(journal.lines.length, MAX_EXPIRED_PER_CHECK);
  assert.deepEqual(timer.pending.map((t) => t.kind), ["after"]);
  timer.fire();
  await settle();
  assert.equal(store.jobCount, 0);
  assert.equal(retention.expiredCount, backlog);
});

Deno.test("retention walks many jobs in slices, giving the event loop a turn between them", () => {
  const { store, retention, job, timer } = setup();
  for (let i = 0; i < 45_000; i++) job(`p.${i}`, "planned", T0);
  job("z.last", "executed", T0 - 2n * HOUR);
  retention.start();
  assert.equal(store.job("z.last")?.id, "z.last", "not reached yet");
  assert.deepEqual(timer.pending.map((t) => t.kind), ["soon"]);
  timer.fire();
  timer.fire();
  assert.equal(store.job("z.last"), undefined);
  assert.deepEqual(timer.pending.map((t) => t.kind), ["after"]);
});

Deno.test("a failed REMOVE group restores the jobs and counts nothing; a read-only journal removes nothing", async () => {
  const { store, journal, retention, job, timer } = setup();
  job("done.1", "executed", T0 - 2n * HOUR);
  journal.failNextGroup = true;
  retention.start();
  assert.equal(store.job("done.1"), undefined);
  await settle();
  assert.equal(store.job("done.1")?.status, "executed", "undone");
  assert.equal(retention.expiredCount, 0);
  assert.equal(journal.writable, false);
  timer.fire();
  await settle();
  assert.equal(store.job("done.1")?.status, "executed", "read-only: kept");
});

Deno.test("retention 0 never checks; short retentions check every half of it, at least every second, long ones every minute", () => {
  const off = setup(0);
  off.job("done.1", "executed", T0 - 100n * HOUR);
  off.retention.start();
  assert.equal(off.timer.tasks.length, 0);
  assert.equal(off.store.jobCount, 1);
  for (
    const [retentionMs, intervalMs] of [
      [2000, 1000],
      [500, 1000],
      [90_000, 45_000],
      [HOUR_MS, 60_000],
    ]
  ) {
    const { retention, timer } = setup(retentionMs);
    retention.start();
    assert.deepEqual(timer.pending.map((t) => t.delayMs), [intervalMs]);
    retention.stop();
    assert.deepEqual(timer.pending, [], "stop cancels");
  }
});

Deno.test("retention never removes a recurring job, whatever its status and age", async () => {
  const { store, journal, retention } = setup();
  const schedule = parseSchedule("@daily");
  for (const status of ["executed", "failed", "planned"] as const) {
    store.apply({
      kind: "set",
      job: {
        id: `cron.${status}`,
        executionNs: T0 - 48n * HOUR,
        status,
        schedule,
      },
    });
  }
  retention.start();
  await settle();
  assert.equal(store.jobCount, 3);
  assert.deepEqual(journal.lines, []);
  assert.equal(retention.expiredCount, 0);
});
