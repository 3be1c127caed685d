/**
 * The client commands through the real executable against a real daemon:
 * every command, its output and exit code (spec: client.md §1, §3).
 */
import assert from "node:assert/strict";
import { waitFor } from "../_helpers/client.ts";
import { parseExact, ScriptedServer, startDaemon, ztick } from "./_client.ts";

const FAR = "4070908800000000000"; // 2099-01-01T00:00:00Z

Deno.test("set, get, query and rm print the documented text and exit 0; a missing job exits 1", async () => {
  await using d = await startDaemon();
  const set = await d.run(["set", "backup.daily", "2099-01-01T00:00:00Z"]);
  assert.deepEqual(set, { code: 0, stdout: "", stderr: "" });
  await d.run(["set", "backup.weekly", `@${4070908800 + 60}`]);
  const get = await d.run(["get", "backup.daily"]);
  assert.deepEqual(get, {
    code: 0,
    stdout: `planned ${FAR} 2099-01-01T00:00:00Z\n`,
    stderr: "",
  });
  const query = await d.run(["query", "backup."]);
  assert.equal(query.code, 0);
  assert.deepEqual(query.stdout.split("\n").sort(), [
    "",
    `backup.daily planned ${FAR}`,
    "backup.weekly planned 4070908860000000000",
  ]);
  assert.equal((await d.run(["query", "none."])).stdout, "");
  assert.deepEqual(await d.run(["rm", "backup.daily"]), {
    code: 0,
    stdout: "",
    stderr: "",
  });
  for (const args of [["get", "backup.daily"], ["rm", "backup.daily"]]) {
    const failed = await d.run(args);
    assert.deepEqual(failed, {
      code: 1,
      stdout: "",
      stderr: `error: ${args[0]} failed\n`,
    }, args.join(" "));
  }
});

Deno.test("rule set sends each argument as one token; rule ls shows rules as on the wire; rule rm", async () => {
  await using d = await startDaemon();
  // A command with spaces needs no extra quoting; after the runner type,
  // options are runner arguments.
  assert.equal(
    (await d.run(["rule", "set", "r.echo", "echo.", "shell", "echo hi there"]))
      .code,
    0,
  );
  assert.equal(
    (await d.run([
      "rule",
      "set",
      "r.ls",
      "ls.",
      "direct",
      "/bin/ls",
      "-l",
      "--json",
      "a b",
    ])).code,
    0,
  );
  const ls = await d.run(["rule", "ls"]);
  assert.equal(ls.code, 0);
  assert.deepEqual(ls.stdout.split("\n").sort(), [
    "",
    "r.echo echo. shell echo hi there",
    "r.ls ls. direct /bin/ls -l --json a b",
  ]);
  const dump = await Deno.readTextFile(`${d.dir}/logfile`);
  assert.match(dump, /^RULE SET r\.ls ls\. direct \/bin\/ls -l --json "a b"$/m);
  assert.deepEqual(await d.run(["rule", "rm", "r.ls"]), {
    code: 0,
    stdout: "",
    stderr: "",
  });
  assert.deepEqual(await d.run(["rule", "rm", "r.ls"]), {
    code: 1,
    stdout: "",
    stderr: "error: rule rm failed\n",
  });
  // The daemon judges runner arguments: a surplus one is its ERROR.
  assert.deepEqual(
    await d.run(["rule", "set", "r.bad", "b.", "shell", "a", "b"]),
    {
      code: 1,
      stdout: "",
      stderr: "error: rule set failed\n",
    },
  );
});

Deno.test("stat prints `<key> <value>` lines in STAT order", async () => {
  await using d = await startDaemon();
  const { code, stdout } = await d.run(["stat"]);
  assert.equal(code, 0);
  const keys = stdout.trimEnd().split("\n").map((line) => line.split(" ")[0]);
  assert.deepEqual(keys.slice(0, 3), [
    "uptime_ns",
    "connections",
    "jobs_total",
  ]);
  assert.match(stdout, /^persistence logfile$/m);
  assert.match(stdout, /^version 0\.1\.0$/m);
});

Deno.test("--json: get an object, query an array, rule ls an array, stat an object, mutations {ok:true}", async () => {
  await using d = await startDaemon();
  const json = async (args: string[]) => {
    const words = args[0] === "rule" ? 2 : 1;
    const { code, stdout, stderr } = await d.run([
      ...args.slice(0, words),
      "--json",
      ...args.slice(words),
    ]);
    assert.equal(code, 0, `${args.join(" ")}: ${stderr}`);
    assert.ok(stdout.endsWith("\n") && !stdout.slice(0, -1).includes("\n"));
    return parseExact(stdout);
  };
  assert.deepEqual(await json(["set", "j.1", "4070908800000000001"]), {
    ok: true,
  });
  assert.deepEqual(
    await json([
      "rule",
      "set",
      "r.1",
      "j.",
      "http",
      "POST",
      "http://127.0.0.1:9/x",
    ]),
    { ok: true },
  );
  // Exact integers: 4070908800000000001 is not a double.
  const job = { id: "j.1", status: "planned", execution: 4070908800000000001n };
  assert.deepEqual(await json(["get", "j.1"]), job);
  assert.deepEqual(await json(["query", "j."]), [job]);
  assert.deepEqual(await json(["query", "none."]), []);
  assert.deepEqual(await json(["rule", "ls"]), [
    {
      id: "r.1",
      pattern: "j.",
      runner: "http",
      args: ["POST", "http://127.0.0.1:9/x"],
    },
  ]);
  const stat = await json(["stat"]) as Record<string, unknown>;
  assert.deepEqual(Object.keys(stat).slice(0, 4), [
    "uptime_ns",
    "connections",
    "jobs_total",
    "jobs_planned",
  ]);
  assert.equal(typeof stat.uptime_ns, "bigint");
  assert.equal(stat.jobs_total, 1n);
  assert.equal(stat.persistence, "logfile");
  assert.equal(stat.version, "0.1.0");
  assert.deepEqual(await json(["rm", "j.1"]), { ok: true });
  assert.deepEqual(await json(["rule", "rm", "r.1"]), { ok: true });
  const failed = await d.run(["get", "j.1", "--json"]);
  assert.deepEqual(failed, {
    code: 1,
    stdout: "",
    stderr: "error: get failed\n",
  });
});

Deno.test("history prints a job's runs as the daemon answers them, exit 0; none for a job that has not run", async () => {
  await using d = await startDaemon();
  await d.run(["rule", "set", "r.fail", "fail.", "shell", "exit 3"]);
  await d.run(["set", "fail.1", "@1"]);
  await d.run(["set", "later.1", "+1h"]);
  const history = await waitFor(async () => {
    const ran = await d.run(["history", "fail.1"]);
    return ran.stdout === "" ? undefined : ran;
  }, { what: "a run of fail.1" });
  assert.equal(history.code, 0);
  assert.match(history.stdout, /^1 \d+ \d+ failed r\.fail exit:3\n$/);
  assert.deepEqual(await d.run(["history", "later.1"]), {
    code: 0,
    stdout: "",
    stderr: "",
  });
  assert.deepEqual(await d.run(["history", "none.1"]), {
    code: 1,
    stdout: "",
    stderr: "error: history failed\n",
  });
});

Deno.test("cron creates a recurring job on the daemon, exit 0; a bad expression exits 1", async () => {
  await using d = await startDaemon();
  assert.deepEqual(
    await d.run([
      "cron",
      "backup.nightly",
      "30 2 * * *",
      "--tz",
      "Europe/Paris",
      "--catchup",
      "skip",
    ]),
    { code: 0, stdout: "", stderr: "" },
  );
  const get = await d.run(["get", "backup.nightly"]);
  assert.equal(get.code, 0);
  assert.match(get.stdout, /^planned \d+ \S+Z\n$/);
  assert.deepEqual(await d.run(["cron", "bad.1", "0 0 L * *"]), {
    code: 1,
    stdout: "",
    stderr: "error: cron failed\n",
  });
});

Deno.test("cron sends one quoted expression with tz= and catchup=; history prints runs as on the wire, or JSON", async () => {
  const runs = [
    "1 1775008800000412000 1775008801234000000 failed rule.backup exit:3",
    "2 1775008811250000000 1775008812001000000 executed rule.backup exit:0",
    "3 1775008900000000000 1775008900000000000 failed  no-rule",
  ];
  await using server = new ScriptedServer((line) => {
    const id = line.split(" ")[0];
    if (line.includes(" HISTORY ")) {
      return `${runs.map((run) => `${id} ${run}\n`).join("")}${id} OK\n`;
    }
    return `${id} OK\n`;
  });
  const addr = ["--addr", server.addr];
  const cron = await ztick([
    "cron",
    "backup.nightly",
    "30 2 * * *",
    ...addr,
    "--tz",
    "Europe/Paris",
    "--catchup=once",
  ]);
  assert.deepEqual(cron, { code: 0, stdout: "", stderr: "" });
  assert.deepEqual(await ztick(["cron", "report.weekly", "@weekly", ...addr]), {
    code: 0,
    stdout: "",
    stderr: "",
  });
  assert.deepEqual(server.lines, [
    'c1 CRON backup.nightly "30 2 * * *" tz=Europe/Paris catchup=once',
    "c1 CRON report.weekly @weekly",
  ]);
  const text = await ztick(["history", "backup.daily", ...addr]);
  assert.deepEqual(text, {
    code: 0,
    stdout: runs.map((run) => `${run}\n`).join(""),
    stderr: "",
  });
  const json = await ztick(["history", "backup.daily", ...addr, "--json"]);
  assert.equal(json.code, 0);
  assert.deepEqual(parseExact(json.stdout), [
    {
      job: "backup.daily",
      attempt: 1n,
      started: 1775008800000412000n,
      ended: 1775008801234000000n,
      outcome: "failed",
      rule: "rule.backup",
      detail: "exit:3",
    },
    {
      job: "backup.daily",
      attempt: 2n,
      started: 1775008811250000000n,
      ended: 1775008812001000000n,
      outcome: "executed",
      rule: "rule.backup",
      detail: "exit:0",
    },
    {
      job: "backup.daily",
      attempt: 3n,
      started: 1775008900000000000n,
      ended: 1775008900000000000n,
      outcome: "failed",
      rule: "",
      detail: "no-rule",
    },
  ]);
  assert.deepEqual(await ztick(["cron", "j", "* * * * *", ...addr, "--json"]), {
    code: 0,
    stdout: '{"ok":true}\n',
    stderr: "",
  });
});

Deno.test("rule ls --json shows rule options as http-api.md does", async () => {
  await using server = new ScriptedServer((line) => {
    const id = line.split(" ")[0];
    return `${id} rule.hook hook. retries=5 backoff=30s http POST http://127.0.0.1:8080/hook\n${id} OK\n`;
  });
  const { code, stdout } = await ztick([
    "rule",
    "ls",
    "--json",
    "--addr",
    server.addr,
  ]);
  assert.equal(code, 0);
  assert.deepEqual(parseExact(stdout), [{
    id: "rule.hook",
    pattern: "hook.",
    runner: "http",
    options: { retries: 5n, backoff: "30s" },
    args: ["POST", "http://127.0.0.1:8080/hook"],
  }]);
  assert.deepEqual(server.lines, ["c1 LISTRULES"]);
});
