import assert from "node:assert/strict";
import type { Command } from "../../../src/domain/command.ts";
import type { Job } from "../../../src/domain/job.ts";
import type { Mutation } from "../../../src/domain/mutation.ts";
import type { Result, StatEntry } from "../../../src/domain/result.ts";
import type { Rule } from "../../../src/domain/rule.ts";
import { parseRequest } from "../../../src/protocol/request.ts";
import { Commands } from "../../../src/scheduler/commands.ts";
import { JobStore } from "../../../src/scheduler/job_store.ts";
import type { Journal } from "../../../src/scheduler/ports.ts";
import { UndoLog } from "../../../src/scheduler/undo_log.ts";
import { MetricsRegistry } from "../../../src/telemetry/registry.ts";
import {
  ManualClock,
  RecordingJournal,
  settle,
} from "../../_helpers/doubles.ts";

const T1 = 1_775_008_800_000_000_000n;
const T2 = T1 + 1_000_000_000n;
const T3 = T2 + 1_000_000_000n;
const STATS: StatEntry[] = [["uptime_ns", 5n], ["connections", 1]];

/** A journal whose appends gather in one group until the test cuts it. */
class GroupJournal implements Journal {
  writable = true;
  readonly records: Mutation[] = [];
  #group: PromiseWithResolvers<void> | undefined;

  append(mutation: Mutation): Promise<void> {
    this.records.push(mutation);
    this.#group ??= Promise.withResolvers<void>();
    return this.#group.promise;
  }

  /** Ends the open group: later appends start a new one. */
  cut(): PromiseWithResolvers<void> {
    const group = this.#group ?? Promise.withResolvers<void>();
    this.#group = undefined;
    return group;
  }
}

/** A command layer over a fresh store, with `journal`. */
function setUpWith<J extends Journal>(journal: J) {
  const store = new JobStore();
  const metrics = new MetricsRegistry();
  let statCalls = 0;
  const commands = new Commands({
    store,
    journal,
    undoLog: new UndoLog(),
    metrics,
    clock: new ManualClock(T1),
    stat: () => {
      statCalls++;
      return STATS;
    },
  });
  const run = (line: string, namespace?: string): Result =>
    commands.execute(command(line), namespace);
  return {
    store,
    metrics,
    commands,
    run,
    journal,
    statCalls: () => statCalls,
  };
}

function setUp() {
  return setUpWith(new RecordingJournal());
}

function command(line: string): Command {
  const request = parseRequest(`r ${line}`);
  if (request.kind !== "command") throw new Error(`bad test line: ${line}`);
  return request.command;
}

/** Jobs, rules and counts of a store, in a comparable form. */
function state(store: JobStore) {
  const jobs = [...store.jobs()].map((j) =>
    `${j.id} ${j.status} ${j.executionNs}`
  )
    .sort();
  const rules = [...store.rules()].map((r) => JSON.stringify(r)).sort();
  return {
    jobs,
    rules,
    counts: { ...store.counts },
    jobCount: store.jobCount,
    ruleCount: store.ruleCount,
    nextDue: store.nextDue()?.id,
  };
}

function job(id: string, executionNs: bigint, status: Job["status"]): Job {
  return { id, executionNs, status };
}

function rule(id: string, pattern: string, command = "true"): Rule {
  return { id, pattern, runner: { kind: "shell", command } };
}

/** The result as a comparable value: `done` without its promise. */
function shape(result: Result) {
  if (result.kind !== "done") return result;
  const { committed: _, ...rest } = result;
  return rest;
}

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
function namespaced() {
  const s = setUp();
  s.store.apply({ kind: "set", job: job("deploy.a", T1, "planned") });
  s.store.apply({ kind: "set", job: job("backup.a", T1, "planned") });
  s.store.apply({ kind: "set", job: job("deployX.a", T1, "planned") });
  s.store.apply({ kind: "ruleSet", rule: rule("deploy.r", "deploy.") });
  s.store.apply({ kind: "ruleSet", rule: rule("deploy.all", "") });
  s.store.apply({ kind: "ruleSet", rule: rule("backup.r", "backup.") });
  return s;
}

Deno.test({
  name:
    "Commands set() refuses a job id outside the namespace (protocol.md §8)",
  permissions: "none",
  fn() {
    const { store, journal, run } = namespaced();
    const before = state(store);
    assert.equal(run(`SET deploy.b ${T2}`, "deploy.").kind, "done");
    for (const id of ["backup.b", "deployX.b", "deploy", "Deploy.b"]) {
      assert.deepEqual(run(`SET ${id} ${T2}`, "deploy."), {
        kind: "forbidden",
        reason: `"${id}" is outside the namespace`,
      });
    }
    assert.equal(journal.records.length, 1);
    assert.deepEqual(
      state(store).jobs,
      [...before.jobs, `deploy.b planned ${T2}`].sort(),
    );
  },
});

Deno.test({
  name: "Commands get() hides a job outside the namespace as notFound",
  permissions: "none",
  fn() {
    const { run } = namespaced();
    assert.equal(run("GET deploy.a", "deploy.").kind, "job");
    assert.deepEqual(run("GET backup.a", "deploy."), {
      kind: "notFound",
      reason: "no such job",
    });
    assert.equal(run("GET deployX.a", "deploy.").kind, "notFound");
    assert.equal(run("GET backup.a", "*").kind, "job");
  },
});

Deno.test({
  name:
    "Commands remove() leaves a job outside the namespace alone, as notFound",
  permissions: "none",
  fn() {
    const { store, journal, run } = namespaced();
    assert.deepEqual(run("REMOVE backup.a", "deploy."), {
      kind: "notFound",
      reason: "no such job",
    });
    assert.ok(store.job("backup.a"));
    assert.equal(journal.records.length, 0);
    assert.equal(run("REMOVE deploy.a", "deploy.").kind, "done");
    assert.equal(store.job("deploy.a"), undefined);
  },
});

Deno.test({
  name:
    "Commands ruleSet() needs both the rule id and the pattern inside the namespace",
  permissions: "none",
  fn() {
    const { store, journal, run } = namespaced();
    assert.equal(
      run("RULE SET deploy.new deploy.x. shell t", "deploy.").kind,
      "done",
    );
    const refused: [string, string][] = [
      ["RULE SET backup.new deploy. shell t", "backup.new"],
      ["RULE SET deploy.new backup. shell t", "deploy.new"],
      ['RULE SET deploy.new "" shell t', "deploy.new"],
      ["RULE SET deploy.new deploy shell t", "deploy.new"],
    ];
    for (const [line, id] of refused) {
      assert.deepEqual(run(line, "deploy."), {
        kind: "forbidden",
        reason: `"${id}" is outside the namespace`,
      }, line);
    }
    assert.equal(journal.records.length, 1);
    assert.deepEqual(
      store.rule("deploy.new"),
      rule("deploy.new", "deploy.x.", "t"),
    );
    assert.equal(run('RULE SET any "" shell t', "*").kind, "done");
  },
});

Deno.test({
  name:
    "Commands removeRule() leaves a rule outside the namespace alone, as notFound",
  permissions: "none",
  fn() {
    const { store, journal, run } = namespaced();
    assert.deepEqual(run("REMOVERULE backup.r", "deploy."), {
      kind: "notFound",
      reason: 'no rule "backup.r"',
    });
    assert.ok(store.rule("backup.r"));
    assert.equal(journal.records.length, 0);
    // Only the rule id counts: a rule with an empty pattern is removable.
    assert.equal(run("REMOVERULE deploy.all", "deploy.").kind, "done");
  },
});

Deno.test({
  name:
    "Commands query() accepts any prefix and lists only the jobs inside the namespace",
  permissions: "none",
  fn() {
    const { run } = namespaced();
    const ids = (line: string, namespace: string) => {
      const result = run(line, namespace);
      assert.ok(result.kind === "jobs");
      return result.jobs.map((j) => j.id).sort();
    };
    assert.deepEqual(ids("QUERY", "deploy."), ["deploy.a"]);
    assert.deepEqual(ids("QUERY deploy", "deploy."), ["deploy.a"]);
    assert.deepEqual(ids("QUERY backup.", "deploy."), []);
    assert.deepEqual(ids("QUERY", "*"), ["backup.a", "deploy.a", "deployX.a"]);
  },
});

Deno.test({
  name:
    "Commands listRules() lists only the rules whose id is inside the namespace",
  permissions: "none",
  fn() {
    const { run } = namespaced();
    const ids = (namespace: string) => {
      const result = run("LISTRULES", namespace);
      assert.ok(result.kind === "rules");
      return result.rules.map((r) => r.id).sort();
    };
    assert.deepEqual(ids("deploy."), ["deploy.all", "deploy.r"]);
    assert.deepEqual(ids("backup."), ["backup.r"]);
    assert.deepEqual(ids("*"), ["backup.r", "deploy.all", "deploy.r"]);
  },
});

Deno.test({
  name:
    "Commands execute() applies a command without a namespace as unrestricted",
  permissions: "none",
  fn() {
    const { commands } = namespaced();
    assert.equal(commands.execute(command("GET backup.a")).kind, "job");
    assert.equal(
      commands.execute(command('RULE SET x "" shell t')).kind,
      "done",
    );
  },
});

Deno.test({
  name:
    "Commands refuses every mutation while the journal is read-only and still answers reads",
  permissions: "none",
  fn() {
    const { store, journal, run } = namespaced();
    journal.writable = false;
    const before = state(store);
    for (
      const line of [
        `SET deploy.a ${T2}`,
        `SET new ${T2}`,
        "REMOVE deploy.a",
        "RULE SET deploy.r x shell t",
        "RULE SET new x shell t",
        "REMOVERULE deploy.r",
      ]
    ) {
      assert.deepEqual(run(line), {
        kind: "readOnly",
        reason: "logfile is read-only after a write failure",
      }, line);
    }
    assert.equal(journal.records.length, 0);
    assert.deepEqual(state(store), before);
    assert.equal(run("GET deploy.a").kind, "job");
    assert.equal(run("QUERY").kind, "jobs");
    assert.equal(run("LISTRULES").kind, "rules");
    assert.equal(run("STAT").kind, "stats");
    // Namespace and existence are checked first.
    assert.equal(run(`SET backup.b ${T2}`, "deploy.").kind, "forbidden");
    assert.equal(run("REMOVE none").kind, "notFound");
    assert.equal(run("REMOVERULE none").kind, "notFound");
  },
});

/** Runs a mutation whose record fails, and waits for its undo. */
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
