/** Commands: every command gives its result kind, counts and records (namespaces in commands_namespace_test.ts, undo in commands_undo_test.ts). */
import assert from "node:assert/strict";
import type { Result } from "../../../src/domain/result.ts";
import { job, rule, setUp, shape, state, STATS, T1, T2 } from "./_commands.ts";

Deno.test({
  name:
    "Commands set() stores a planned job, records it and answers done with a committed promise",
  permissions: "none",
  async fn() {
    const { store, journal, run } = setUp();
    const result = run(`SET b.1 ${T1}`);
    assert.equal(result.kind, "done");
    assert.ok(result.kind === "done");
    assert.deepEqual(result.job, job("b.1", T1, "planned"));
    assert.equal(result.rule, undefined);
    assert.ok(result.committed instanceof Promise);
    await result.committed;
    assert.deepEqual(journal.records, [
      { kind: "set", job: job("b.1", T1, "planned") },
    ]);
    const stored = store.job("b.1");
    assert.deepEqual(
      stored && { id: stored.id, ns: stored.executionNs, s: stored.status },
      { id: "b.1", ns: T1, s: "planned" },
    );
    assert.equal(store.counts.planned, 1);
  },
});

for (const status of ["planned", "triggered", "executed", "failed"] as const) {
  Deno.test({
    name:
      `Commands set() replaces a ${status} job with a planned one at the new time`,
    permissions: "none",
    async fn() {
      const { store, run } = setUp();
      store.apply({ kind: "set", job: job("a", T1, status) });
      const result = run(`SET a ${T2}`);
      assert.ok(result.kind === "done");
      await result.committed;
      assert.deepEqual(state(store).jobs, [`a planned ${T2}`]);
      assert.deepEqual(store.counts, {
        planned: 1,
        triggered: 0,
        executed: 0,
        failed: 0,
      });
    },
  });
}

Deno.test({
  name: "Commands set() with an unchanged time is still a recorded mutation",
  permissions: "none",
  async fn() {
    const { journal, run } = setUp();
    await (run(`SET a ${T1}`) as { committed: Promise<void> }).committed;
    const again = run(`SET a ${T1}`);
    assert.equal(again.kind, "done");
    assert.equal(journal.records.length, 2);
  },
});

Deno.test({
  name: "Commands get() answers the stored job, or notFound",
  permissions: "none",
  fn() {
    const { store, run } = setUp();
    store.apply({ kind: "set", job: job("a", T1, "executed") });
    const result = run("GET a");
    assert.equal(result.kind, "job");
    assert.ok(result.kind === "job");
    assert.deepEqual(
      { id: result.job.id, ns: result.job.executionNs, s: result.job.status },
      { id: "a", ns: T1, s: "executed" },
    );
    assert.deepEqual(run("GET b"), { kind: "notFound", reason: "no such job" });
  },
});

Deno.test({
  name:
    "Commands query() lists the jobs whose id starts with the prefix, every job for an empty one",
  permissions: "none",
  fn() {
    const { store, run } = setUp();
    for (const id of ["backup.daily", "backup.weekly", "backupx", "mail.1"]) {
      store.apply({ kind: "set", job: job(id, T1, "planned") });
    }
    const ids = (line: string) => {
      const result = run(line);
      assert.ok(result.kind === "jobs");
      return result.jobs.map((j) => j.id).sort();
    };
    assert.deepEqual(ids("QUERY backup."), ["backup.daily", "backup.weekly"]);
    assert.deepEqual(ids("QUERY backup"), [
      "backup.daily",
      "backup.weekly",
      "backupx",
    ]);
    assert.deepEqual(ids("QUERY"), [
      "backup.daily",
      "backup.weekly",
      "backupx",
      "mail.1",
    ]);
    assert.deepEqual(ids("QUERY none."), []);
  },
});

Deno.test({
  name:
    "Commands remove() deletes a job and records it; notFound and nothing recorded for an unknown one",
  permissions: "none",
  async fn() {
    const { store, journal, run } = setUp();
    store.apply({ kind: "set", job: job("a", T1, "triggered") });
    const result = run("REMOVE a");
    assert.deepEqual(shape(result), { kind: "done" });
    assert.ok(result.kind === "done");
    await result.committed;
    assert.equal(store.job("a"), undefined);
    assert.equal(store.counts.triggered, 0);
    assert.deepEqual(journal.records, [{ kind: "remove", jobId: "a" }]);
    assert.deepEqual(run("REMOVE a"), {
      kind: "notFound",
      reason: "no such job",
    });
    assert.equal(journal.records.length, 1);
  },
});

Deno.test({
  name:
    "Commands ruleSet() stores a rule, replacing one of the same id, and answers done with it",
  permissions: "none",
  async fn() {
    const { store, journal, run } = setUp();
    const first = run("RULE SET r backup. shell one");
    assert.deepEqual(shape(first), {
      kind: "done",
      rule: rule("r", "backup.", "one"),
    });
    const second = run("RULE SET r other. shell two");
    assert.deepEqual(shape(second), {
      kind: "done",
      rule: rule("r", "other.", "two"),
    });
    assert.ok(second.kind === "done");
    await second.committed;
    assert.deepEqual(store.rule("r"), rule("r", "other.", "two"));
    assert.equal(store.ruleCount, 1);
    assert.deepEqual(journal.records, [
      { kind: "ruleSet", rule: rule("r", "backup.", "one") },
      { kind: "ruleSet", rule: rule("r", "other.", "two") },
    ]);
  },
});

Deno.test({
  name:
    "Commands removeRule() deletes a rule and records it; notFound for an unknown one",
  permissions: "none",
  async fn() {
    const { store, journal, run } = setUp();
    store.apply({ kind: "ruleSet", rule: rule("r", "p") });
    const result = run("REMOVERULE r");
    assert.deepEqual(shape(result), { kind: "done" });
    assert.ok(result.kind === "done");
    await result.committed;
    assert.equal(store.rule("r"), undefined);
    assert.deepEqual(journal.records, [{ kind: "removeRule", ruleId: "r" }]);
    assert.deepEqual(run("REMOVERULE r"), {
      kind: "notFound",
      reason: 'no rule "r"',
    });
    assert.equal(journal.records.length, 1);
  },
});

Deno.test({
  name: "Commands listRules() lists every rule",
  permissions: "none",
  fn() {
    const { store, run } = setUp();
    assert.deepEqual(run("LISTRULES"), { kind: "rules", rules: [] });
    store.apply({ kind: "ruleSet", rule: rule("b", "") });
    store.apply({ kind: "ruleSet", rule: rule("a", "x.") });
    const result = run("LISTRULES");
    assert.ok(result.kind === "rules");
    assert.deepEqual(
      [...result.rules].sort((x, y) => x.id < y.id ? -1 : 1),
      [rule("a", "x."), rule("b", "")],
    );
  },
});

Deno.test({
  name:
    "Commands execute() answers STAT with the injected entries, read at each request",
  permissions: "none",
  fn() {
    const { run, statCalls } = setUp();
    assert.deepEqual(run("STAT"), { kind: "stats", entries: STATS });
    assert.deepEqual(run("STAT", "deploy."), { kind: "stats", entries: STATS });
    assert.equal(statCalls(), 2);
  },
});

Deno.test({
  name: "Commands execute() gives each command its result kind",
  permissions: "none",
  async fn() {
    const { run } = setUp();
    const kinds: [string, Result["kind"]][] = [
      ["GET a", "notFound"],
      [`SET a ${T1}`, "done"],
      ["GET a", "job"],
      ["QUERY", "jobs"],
      ["RULE SET r a shell true", "done"],
      ["LISTRULES", "rules"],
      ["STAT", "stats"],
      ["REMOVERULE r", "done"],
      ["REMOVERULE r", "notFound"],
      ["REMOVE a", "done"],
      ["REMOVE a", "notFound"],
    ];
    for (const [line, kind] of kinds) {
      const result = run(line);
      assert.equal(result.kind, kind, line);
      if (result.kind === "done") await result.committed;
    }
  },
});

/** A store with jobs and rules inside and outside the `deploy.` namespace. */
