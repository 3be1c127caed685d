/**
 * The client's failures through the real executable: usage errors (exit
 * 2), an unreachable, silent or hanging-up daemon (exit 3), the address
 * from the environment, and what a missing `--allow-env` leaves (spec:
 * client.md §1, §3).
 */
import assert from "node:assert/strict";
import { tempDir, writeFile } from "../_helpers/fs.ts";
import { runZtick } from "../_helpers/subprocess.ts";
import { ScriptedServer, startDaemon, ztick } from "./_client.ts";

Deno.test("usage errors exit 2 with `error: <problem>` and the command's usage line", async () => {
  const cases: [string[], string, RegExp][] = [
    [["get"], "error: get needs <job>", /^usage: ztick get <job> /],
    [["get", "a", "b"], 'error: unexpected argument "b"', /^usage: ztick get/],
    [
      ["stat", "--frob"],
      'error: unknown option "--frob"',
      /^usage: ztick stat/,
    ],
    [
      ["get", "j", "--tz", "UTC"],
      'error: unknown option "--tz"',
      /^usage: ztick get/,
    ],
    [
      ["set", "j", "-5"],
      'error: unknown option "-5" (put -- before a negative number)',
      /^usage: ztick set/,
    ],
    [
      ["stat", "--addr"],
      'error: option "--addr" needs a value',
      /^usage: ztick stat/,
    ],
    [
      ["stat", "--json=yes"],
      'error: option "--json" takes no value',
      /^usage: ztick stat/,
    ],
    [
      ["stat", "--timeout", "soon"],
      'error: invalid --timeout "soon" (a duration such as 500ms, 10s, 2m)',
      /^usage: ztick stat/,
    ],
    [
      ["stat", "--timeout", "0s"],
      'error: invalid --timeout "0s" (a duration such as 500ms, 10s, 2m)',
      /^usage: ztick stat/,
    ],
    [
      ["cron", "j", "@daily", "--catchup", "some"],
      'error: invalid --catchup "some" (skip, once or all)',
      /^usage: ztick cron/,
    ],
    [
      ["stat", "--ca", "x.pem"],
      'error: option "--ca" needs --tls',
      /^usage: ztick stat/,
    ],
    [
      ["stat", "--addr", "localhost"],
      'error: invalid address "localhost" (HOST:PORT)',
      /^usage: ztick stat/,
    ],
    [
      ["rule", "set", "r", "p."],
      "error: rule set needs <rule> <pattern> <runner>",
      /^usage: ztick rule set/,
    ],
    [
      ["rule", "frob"],
      'error: unknown rule command "frob" (set, rm or ls)',
      /^usage: ztick set\|cron/,
    ],
    [["rule"], "error: rule needs set, rm or ls", /^usage: ztick set\|cron/],
    [
      ["get", "a\nr2 REMOVE b"],
      'error: Cannot send argument "a\\nr2 REMOVE b": control characters cannot be sent',
      /^usage: ztick get/,
    ],
  ];
  for (const [args, problem, usage] of cases) {
    const { code, stdout, stderr } = await ztick(args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "");
    const [first, second, rest] = stderr.split("\n");
    assert.equal(first, problem);
    assert.match(second!, usage);
    assert.equal(rest, "");
  }
});

Deno.test("--help and -h after a client command print its usage and exit 0", async () => {
  for (
    const args of [["get", "--help"], ["rule", "set", "-h"], [
      "set",
      "j",
      "--help",
    ]]
  ) {
    const { code, stdout } = await ztick(args);
    assert.equal(code, 0);
    assert.match(
      stdout,
      new RegExp(
        `^usage: ztick ${args.slice(0, args[0] === "rule" ? 2 : 1).join(" ")} `,
      ),
    );
    assert.match(stdout, /--token-file PATH/);
  }
  const { stdout } = await ztick(["--help"]);
  assert.match(stdout, /ztick rule set <rule> <pattern>/);
});

Deno.test("nothing listening: exit 3 `error: cannot connect to <addr>: …`", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const addr = `127.0.0.1:${listener.addr.port}`;
  listener.close();
  const { code, stdout, stderr } = await ztick(["stat", "--addr", addr]);
  assert.equal(code, 3);
  assert.equal(stdout, "");
  assert.match(
    stderr,
    new RegExp(`^error: cannot connect to ${addr}: .*refused`),
  );
});

Deno.test("a daemon that never answers: exit 3 at --timeout", async () => {
  await using server = new ScriptedServer(() => "");
  const started = performance.now();
  const { code, stderr } = await ztick([
    "get",
    "j",
    "--addr",
    server.addr,
    "--timeout",
    "500ms",
  ]);
  const tookMs = performance.now() - started;
  assert.equal(code, 3);
  assert.equal(stderr, `error: no answer from ${server.addr} within 500ms\n`);
  assert.ok(tookMs >= 500 && tookMs < 10_000, `${tookMs} ms`);
  assert.deepEqual(server.lines, ["c1 GET j"]);
});

Deno.test("a connection closed before the answer, or an answer to another request: exit 3", async () => {
  {
    await using server = new ScriptedServer(() => "c1 b.1 planned 5\n");
    const { code, stderr } = await ztick([
      "query",
      "--addr",
      server.addr,
      "--timeout",
      "2s",
    ]);
    assert.equal(code, 3);
    assert.equal(stderr, `error: no answer from ${server.addr} within 2s\n`);
  }
  {
    await using server = new ScriptedServer(() => undefined);
    const { code, stderr } = await ztick(["get", "j", "--addr", server.addr]);
    assert.equal(code, 3);
    assert.match(
      stderr,
      new RegExp(
        `^error: connection closed by ${server.addr} before the answer`,
      ),
    );
  }
  {
    await using server = new ScriptedServer(() => "r9 OK\n");
    const { code, stderr } = await ztick(["rm", "j", "--addr", server.addr]);
    assert.equal(code, 3);
    assert.equal(
      stderr,
      `error: unexpected answer from ${server.addr}: "r9 OK"\n`,
    );
  }
  {
    await using server = new ScriptedServer(() => "c1 OK nonsense\n");
    const { code, stderr } = await ztick(["get", "j", "--addr", server.addr]);
    assert.equal(code, 3);
    assert.match(
      stderr,
      /^error: unreadable answer from .*: Cannot read job state "nonsense"/,
    );
  }
});

Deno.test("$ZTICK_ADDR names the daemon; --addr wins over it", async () => {
  await using d = await startDaemon();
  assert.equal(
    (await ztick(["set", "e.1", "@4070908800"], { ZTICK_ADDR: d.addr })).code,
    0,
  );
  const { stdout } = await ztick(["get", "e.1"], { ZTICK_ADDR: d.addr });
  assert.equal(stdout, "planned 4070908800000000000 2099-01-01T00:00:00Z\n");
  const wins = await ztick(["get", "e.1", "--addr", d.addr], {
    ZTICK_ADDR: "127.0.0.1:1",
  });
  assert.equal(wins.code, 0);
});

Deno.test("without --allow-env the variables count as unset and a failure says why", async () => {
  await using server = new ScriptedServer((line) =>
    line.startsWith("AUTH ")
      ? "OK\n"
      : line.startsWith("c1 ")
      ? "c1 OK\n"
      : "ERROR\n"
  );
  const env = { ZTICK_TOKEN: "s3cret", TZ: "Europe/Paris" };
  const permissions = ["--allow-net", "--allow-read"];
  const addr = ["--addr", server.addr];
  // A UTC time needs nothing from the environment; a local time takes the
  // zone as the runtime itself reads it.
  const ok = await runZtick(["set", "p.1", "2099-01-01T00:00:00Z", ...addr], {
    env,
    permissions,
  });
  assert.deepEqual(ok, { code: 0, stdout: "", stderr: "" });
  const local = await runZtick(["set", "p.2", "2099-01-01 01:00", ...addr], {
    env,
    permissions,
  });
  assert.equal(local.code, 0, local.stderr);
  // $ZTICK_TOKEN was not read: no AUTH was sent.
  assert.deepEqual(server.lines, [
    "c1 SET p.1 4070908800000000000",
    "c1 SET p.2 4070908800000000000",
  ]);
  // The same with a daemon that wants AUTH: the error, then why.
  await using tmp = await tempDir();
  const authFile = await writeFile(
    `${tmp.path}/auth.toml`,
    '[token.t]\nsecret = "s3cret"\nnamespace = "*"\n',
  );
  await using d = await startDaemon(`auth_file = "${authFile}"\n`);
  const denied = await runZtick(["stat", "--addr", d.addr], {
    env,
    permissions,
  });
  assert.equal(denied.code, 3);
  assert.equal(
    denied.stderr,
    `error: ${d.addr} requires authentication\n` +
      "hint: $ZTICK_TOKEN_FILE, $ZTICK_TOKEN not readable: grant --allow-env=ZTICK_ADDR,ZTICK_TOKEN,ZTICK_TOKEN_FILE,TZ\n",
  );
  // Granted, the same call authenticates.
  assert.equal(
    (await ztick(["stat", "--addr", d.addr], { ZTICK_TOKEN: "s3cret" })).code,
    0,
  );
});
