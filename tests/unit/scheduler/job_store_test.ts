import assert from "node:assert/strict";
import type { JobStatus } from "../../../src/domain/job.ts";
import type { Rule } from "../../../src/domain/rule.ts";
import { JobStore } from "../../../src/scheduler/job_store.ts";
import { mulberry32 } from "../../_helpers/random.ts";

const T = 1_775_008_800_000_000_000n;

function rule(id: string, pattern = ""): Rule {
  return { id, pattern, runner: { kind: "shell", command: "true" } };
}

/**
 * Pops every job due at `nowNs`, in order, marking each `triggered` as the
 * scheduler does before it pops the next.
 */
function drain(store: JobStore, nowNs: bigint): string[] {
  const ids: string[] = [];
  for (let e = store.popDue(nowNs); e; e = store.popDue(nowNs)) {
    ids.push(e.id);
    store.setStatus(e, "triggered");
  }
  return ids;
}

Deno.test({
  name: "JobStore popDue() gives nothing before a job's time and the job at it",
  permissions: "none",
  fn() {
    const store = new JobStore();
    store.putJob("a", T, "planned");
    assert.equal(store.popDue(T - 1n), undefined);
    assert.equal(store.nextDue()?.id, "a");
    assert.equal(store.popDue(T)?.id, "a");
    assert.equal(store.popDue(T), undefined, "popped once");
    assert.equal(store.nextDue(), undefined);
    assert.equal(store.job("a")?.status, "planned", "still stored");
  },
});

Deno.test({
  name: "JobStore popDue() gives due jobs in ascending time, ties in SET order",
  permissions: "none",
  fn() {
    const store = new JobStore();
    store.putJob("c", T + 2n, "planned");
    store.putJob("a", T + 1n, "planned");
    store.putJob("z", T + 1n, "planned");
    store.putJob("b", T + 1n, "planned");
    store.putJob("past", -5n, "planned");
    store.putJob("later", T + 100n, "planned");
    assert.deepEqual(drain(store, T + 2n), ["past", "a", "z", "b", "c"]);
    assert.equal(store.nextDue()?.id, "later");
  },
});

Deno.test({
  name: "JobStore popDue() puts a re-SET job behind the ties already set",
  permissions: "none",
  fn() {
    const store = new JobStore();
    store.putJob("a", T, "planned");
    store.putJob("b", T, "planned");
    store.putJob("c", T, "planned");
    store.putJob("a", T, "planned"); // same time, set again: now last
    assert.deepEqual(drain(store, T), ["b", "c", "a"]);
  },
});

Deno.test({
  name:
    "JobStore popDue() orders a thousand random jobs by time, then SET order",
  permissions: "none",
  fn() {
    const next = mulberry32(99);
    const store = new JobStore();
    const expected: { id: string; ns: bigint; seq: number }[] = [];
    for (let i = 0; i < 1000; i++) {
      const id = `j${Math.floor(next() * 300)}`;
      const ns = T + BigInt(Math.floor(next() * 50));
      store.putJob(id, ns, "planned");
      const at = expected.findIndex((e) => e.id === id);
      if (at >= 0) expected.splice(at, 1);
      expected.push({ id, ns, seq: i });
    }
    expected.sort((a, b) => a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : a.seq - b.seq);
    assert.deepEqual(drain(store, T + 50n), expected.map((e) => e.id));
  },
});

Deno.test({
  name:
    "JobStore drops stale heap items of re-SET, removed and no longer planned jobs",
  permissions: "none",
  fn() {
    const store = new JobStore();
    store.putJob("moved", T, "planned");
    store.putJob("moved", T + 10n, "planned");
    store.putJob("removed", T + 1n, "planned");
    store.deleteJob("removed");
    const { entry } = store.putJob("triggered", T + 2n, "planned");
    store.setStatus(entry, "triggered");
    store.putJob("kept", T + 3n, "planned");
    assert.equal(store.nextDue()?.id, "kept");
    assert.deepEqual(drain(store, T + 5n), ["kept"]);
    assert.equal(store.popDue(T + 9n), undefined, "moved is due later now");
    assert.equal(store.popDue(T + 10n)?.id, "moved");
  },
});

Deno.test({
  name: "JobStore keeps the due order through many re-SETs of the same jobs",
  permissions: "none",
  fn() {
    const store = new JobStore();
    // Far more stale items than jobs: the heap is filtered on the way.
    for (let i = 0; i < 5000; i++) {
      store.putJob(`j${i % 3}`, T + BigInt(i), "planned");
    }
    assert.equal(store.jobCount, 3);
    assert.deepEqual(drain(store, T + 5000n), ["j2", "j0", "j1"]);
    assert.equal(store.nextDue(), undefined);
  },
});

Deno.test({
  name: "JobStore puts only planned jobs in the due heap",
  permissions: "none",
  fn() {
    const store = new JobStore();
    for (const status of ["triggered", "executed", "failed"] as const) {
      store.putJob(status, T, status);
    }
    assert.equal(store.nextDue(), undefined);
    assert.equal(store.popDue(T + 1n), undefined);
  },
});

Deno.test({
  name: "JobStore replan() puts a job back into the due heap",
  permissions: "none",
  fn() {
    const store = new JobStore();
    const { entry } = store.putJob("a", T, "planned");
    assert.equal(store.popDue(T), entry);
    store.setStatus(entry, "triggered");
    store.setStatus(entry, "planned");
    assert.equal(store.nextDue(), undefined, "not by a status change alone");
    store.replan(entry);
    assert.equal(store.popDue(T), entry);
  },
});

Deno.test({
  name: "JobStore counts jobs by status through every change",
  permissions: "none",
  fn() {
    const store = new JobStore();
    const counts = () => ({ ...store.counts, total: store.jobCount });
    const zero = { planned: 0, triggered: 0, executed: 0, failed: 0 };
    assert.deepEqual(counts(), { ...zero, total: 0 });
    const { entry: a } = store.putJob("a", T, "planned");
    store.putJob("b", T, "executed");
    store.putJob("c", T, "failed");
    assert.deepEqual(counts(), {
      ...zero,
      planned: 1,
      executed: 1,
      failed: 1,
      total: 3,
    });
    store.setStatus(a, "triggered");
    assert.deepEqual(counts(), {
      ...zero,
      triggered: 1,
      executed: 1,
      failed: 1,
      total: 3,
    });
    store.putJob("b", T + 1n, "planned"); // replaces an executed job
    assert.deepEqual(counts(), {
      ...zero,
      planned: 1,
      triggered: 1,
      failed: 1,
      total: 3,
    });
    store.deleteJob("c");
    store.deleteJob("none");
    assert.deepEqual(counts(), {
      ...zero,
      planned: 1,
      triggered: 1,
      total: 2,
    });
  },
});

Deno.test({
  name: "JobStore putJob() returns the new entry and the one it replaced",
  permissions: "none",
  fn() {
    const store = new JobStore();
    const first = store.putJob("a", T, "planned");
    assert.equal(first.previous, undefined);
    assert.deepEqual(
      {
        id: first.entry.id,
        ns: first.entry.executionNs,
        s: first.entry.status,
      },
      { id: "a", ns: T, s: "planned" },
    );
    const second = store.putJob("a", T + 1n, "failed");
    assert.equal(second.previous, first.entry);
    assert.ok(second.entry.seq > first.entry.seq);
    assert.equal(store.job("a"), second.entry);
    assert.ok(store.isCurrent(second.entry));
    assert.ok(!store.isCurrent(first.entry));
  },
});

Deno.test({
  name: "JobStore restoreJob() brings a replaced or removed version back",
  permissions: "none",
  fn() {
    const store = new JobStore();
    const { entry: old } = store.putJob("a", T, "planned");
    const { entry: replacing } = store.putJob("a", T + 5n, "planned");
    assert.equal(store.restoreJob(old), replacing);
    assert.ok(store.isCurrent(old));
    assert.equal(store.counts.planned, 1);
    assert.equal(store.nextDue(), old);
    assert.deepEqual(drain(store, T + 10n), ["a"]);
    assert.equal(store.deleteJob("a"), old);
    assert.equal(store.counts.triggered, 0);
    assert.equal(store.restoreJob(old), undefined);
    assert.equal(store.job("a"), old);
    assert.equal(store.counts.triggered, 1);
  },
});

Deno.test({
  name:
    "JobStore onEarliest is called when a planned job becomes the earliest one waiting",
  permissions: "none",
  fn() {
    const store = new JobStore();
    const calls: string[] = [];
    store.onEarliest = () => calls.push(store.nextDue()!.id);
    store.putJob("b", T + 10n, "planned");
    store.putJob("later", T + 20n, "planned");
    store.putJob("a", T + 5n, "planned");
    store.putJob("tie", T + 5n, "planned"); // after "a" in SET order
    store.putJob("done", T, "executed"); // not waiting
    store.putJob("first", T, "planned");
    assert.deepEqual(calls, ["b", "a", "first"]);
  },
});

Deno.test({
  name: "JobStore apply() replays every record kind",
  permissions: "none",
  fn() {
    const store = new JobStore();
    store.apply({
      kind: "set",
      job: { id: "a", executionNs: T, status: "triggered" },
    });
    store.apply({
      kind: "set",
      job: { id: "b", executionNs: T, status: "planned" },
    });
    store.apply({ kind: "remove", jobId: "b" });
    store.apply({ kind: "remove", jobId: "never" });
    store.apply({ kind: "ruleSet", rule: rule("r1", "a") });
    store.apply({ kind: "ruleSet", rule: rule("r2") });
    store.apply({ kind: "ruleSet", rule: rule("r1", "x") });
    store.apply({ kind: "removeRule", ruleId: "r2" });
    store.apply({ kind: "removeRule", ruleId: "never" });
    assert.deepEqual(
      [...store.jobs()].map((j) => [j.id, j.executionNs, j.status]),
      [["a", T, "triggered"]],
    );
    assert.deepEqual([...store.rules()], [rule("r1", "x")]);
    assert.equal(store.jobCount, 1);
    assert.equal(store.ruleCount, 1);
    assert.deepEqual(store.counts, {
      planned: 0,
      triggered: 1,
      executed: 0,
      failed: 0,
    });
  },
});

Deno.test({
  name:
    "JobStore putRule() and deleteRule() return the rule they replaced or removed",
  permissions: "none",
  fn() {
    const store = new JobStore();
    assert.equal(store.putRule(rule("r", "a")), undefined);
    assert.deepEqual(store.putRule(rule("r", "b")), rule("r", "a"));
    assert.deepEqual(store.rule("r"), rule("r", "b"));
    assert.deepEqual(store.deleteRule("r"), rule("r", "b"));
    assert.equal(store.deleteRule("r"), undefined);
    assert.equal(store.ruleCount, 0);
  },
});

Deno.test({
  name: "JobStore snapshot() lists every rule and job with its current status",
  permissions: "none",
  fn() {
    const store = new JobStore();
    store.putRule(rule("r"));
    const { entry } = store.putJob("a", T, "planned");
    store.putJob("b", T, "failed");
    const statuses: JobStatus[] = [];
    store.setStatus(entry, "triggered");
    const { rules, jobs } = store.snapshot();
    for (const job of jobs) statuses.push(job.status);
    assert.deepEqual([...rules], [rule("r")]);
    assert.deepEqual(statuses.sort(), ["failed", "triggered"]);
  },
});
