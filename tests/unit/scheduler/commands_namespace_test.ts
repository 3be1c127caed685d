/** Commands with namespaces: jobs and rules outside a token's namespace (protocol.md §8). */
import assert from "node:assert/strict";
import { command, job, rule, setUp, state, T1, T2 } from "./_commands.ts";

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
