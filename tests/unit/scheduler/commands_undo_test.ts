/** Commands undo a mutation whose record failed, newest first, whatever came in between. */
import assert from "node:assert/strict";
import { settle } from "../../_helpers/doubles.ts";
import {
  GroupJournal,
  job,
  rule,
  setUp,
  setUpWith,
  state,
  T1,
  T2,
  T3,
} from "./_commands.ts";

async function failing(
  s: ReturnType<typeof setUp>,
  line: string,
): Promise<void> {
  s.journal.failNext = true;
  const result = s.run(line);
  assert.ok(result.kind === "done", line);
  await assert.rejects(result.committed, /disk full/);
  await settle();
}

Deno.test({
  name: "Commands undoes a SET of a new job whose record failed",
  permissions: "none",
  async fn() {
    const s = setUp();
    const before = state(s.store);
    await failing(s, `SET a ${T1}`);
    assert.deepEqual(state(s.store), before);
    assert.equal(s.store.popDue(T3), undefined, "not left in the due heap");
  },
});

for (const status of ["planned", "triggered", "executed", "failed"] as const) {
  Deno.test({
    name: `Commands undoes a SET replacing a ${status} job whose record failed`,
    permissions: "none",
    async fn() {
      const s = setUp();
      s.store.apply({ kind: "set", job: job("a", T1, status) });
      const before = state(s.store);
      await failing(s, `SET a ${T2}`);
      assert.deepEqual(state(s.store), before);
      const due = s.store.popDue(T3);
      assert.equal(due?.id, status === "planned" ? "a" : undefined);
      assert.equal(due?.executionNs, status === "planned" ? T1 : undefined);
    },
  });
}

Deno.test({
  name: "Commands undoes a REMOVE whose record failed",
  permissions: "none",
  async fn() {
    const s = setUp();
    s.store.apply({ kind: "set", job: job("a", T1, "planned") });
    s.store.apply({ kind: "set", job: job("b", T2, "executed") });
    const before = state(s.store);
    await failing(s, "REMOVE a");
    assert.deepEqual(state(s.store), before);
    assert.equal(s.store.popDue(T3)?.id, "a", "due again");
    s.journal.writable = true;
    await failing(s, "REMOVE b");
    assert.deepEqual(state(s.store).jobs, [
      `a planned ${T1}`,
      `b executed ${T2}`,
    ]);
  },
});

Deno.test({
  name: "Commands undoes a RULE SET, new or replacing, whose record failed",
  permissions: "none",
  async fn() {
    const s = setUp();
    await failing(s, "RULE SET r p shell new");
    assert.equal(s.store.rule("r"), undefined);
    s.journal.writable = true;
    s.store.apply({ kind: "ruleSet", rule: rule("r", "p", "old") });
    await failing(s, "RULE SET r q shell new");
    assert.deepEqual(s.store.rule("r"), rule("r", "p", "old"));
    assert.equal(s.store.ruleCount, 1);
  },
});

Deno.test({
  name: "Commands undoes a REMOVERULE whose record failed",
  permissions: "none",
  async fn() {
    const s = setUp();
    s.store.apply({ kind: "ruleSet", rule: rule("r", "p", "old") });
    await failing(s, "REMOVERULE r");
    assert.deepEqual(s.store.rule("r"), rule("r", "p", "old"));
  },
});

Deno.test({
  name:
    "Commands undoes a failed group newest first, back to the state before it",
  permissions: "none",
  async fn() {
    const s = setUpWith(new GroupJournal());
    s.store.apply({ kind: "set", job: job("a", T1, "executed") });
    s.store.apply({ kind: "set", job: job("b", T2, "planned") });
    s.store.apply({ kind: "ruleSet", rule: rule("r1", "a", "old") });
    const before = state(s.store);
    const lines = [
      `SET a ${T2}`,
      `SET a ${T3}`,
      `SET c ${T1}`,
      "REMOVE c",
      "REMOVE b",
      `SET b ${T3}`,
      "RULE SET r1 b shell new",
      "RULE SET r2 c shell new",
      "REMOVERULE r1",
    ];
    const results = lines.map((line) => s.run(line));
    assert.ok(results.every((r) => r.kind === "done"));
    assert.notDeepEqual(state(s.store), before);
    const group = s.journal.cut();
    group.reject(new Error("fsync failed"));
    await settle();
    assert.deepEqual(state(s.store), before);
  },
});

Deno.test({
  name:
    "Commands undoes failed groups newer first, each back to where it started",
  permissions: "none",
  async fn() {
    const s = setUpWith(new GroupJournal());
    s.run(`SET a ${T1}`);
    const older = s.journal.cut();
    s.run(`SET a ${T2}`);
    s.run(`SET b ${T2}`);
    const newer = s.journal.cut();
    // Journals reject newer groups first (scheduler/ports.ts).
    newer.reject(new Error("fsync failed"));
    await settle();
    assert.deepEqual(state(s.store).jobs, [`a planned ${T1}`]);
    older.reject(new Error("fsync failed"));
    await settle();
    assert.deepEqual(state(s.store).jobs, []);
    assert.equal(s.store.nextDue(), undefined);
  },
});

Deno.test({
  name:
    "Commands counts jobs_scheduled_total and jobs_removed_total once committed",
  permissions: "none",
  async fn() {
    const s = setUpWith(new GroupJournal());
    const value = (name: "jobs_scheduled_total" | "jobs_removed_total") =>
      s.metrics.counterValue(name);
    s.run(`SET a ${T1}`);
    s.run(`SET b ${T1}`);
    s.run(`SET a ${T2}`);
    s.run("REMOVE b");
    s.run("RULE SET r p shell t");
    s.run("REMOVERULE r");
    await settle();
    assert.equal(value("jobs_scheduled_total"), 0, "not before the commit");
    assert.equal(value("jobs_removed_total"), 0, "not before the commit");
    s.journal.cut().resolve();
    await settle();
    assert.equal(value("jobs_scheduled_total"), 3);
    assert.equal(value("jobs_removed_total"), 1);
    s.run(`SET c ${T1}`);
    s.run("REMOVE a");
    s.journal.cut().reject(new Error("disk full"));
    await settle();
    assert.equal(value("jobs_scheduled_total"), 3, "not for a failed group");
    assert.equal(value("jobs_removed_total"), 1, "not for a failed group");
  },
});

Deno.test({
  name: "Commands counts nothing for refused commands",
  permissions: "none",
  async fn() {
    const s = setUp();
    s.run(`SET backup.a ${T1}`, "deploy.");
    s.run("REMOVE none");
    s.journal.writable = false;
    s.run(`SET a ${T1}`);
    await settle();
    assert.equal(s.metrics.counterValue("jobs_scheduled_total"), 0);
    assert.equal(s.metrics.counterValue("jobs_removed_total"), 0);
  },
});
