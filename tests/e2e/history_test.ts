/**
 * Execution history through a real daemon: HISTORY answers, the detail of
 * each kind of ending, messages in dump, REMOVE/SET, `[execution] history`
 * (spec: extensions.md §3, §5).
 */
import assert from "node:assert/strict";
import {
  gatedTest,
  rabbitGate,
  redisCli,
  redisGate,
  uniqueName,
} from "../_helpers/brokers.ts";
import { converse, waitFor } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { writeFile } from "../_helpers/fs.ts";
import { runZtick } from "../_helpers/subprocess.ts";
import { ADMIN_SECRET, AUTH_TOML, DEPLOY_SECRET } from "./_security.ts";

const MS = 1_000_000n;
const nowNs = () => BigInt(Date.now()) * MS;

async function ask(port: number, line: string): Promise<string> {
  return await converse(port, `${line}\n`);
}

function runsBecome(port: number, jobId: string, count: number) {
  return waitFor(async () => {
    const answer = await ask(port, `h HISTORY ${jobId}`);
    return answer.split("\n").length - 2 >= count ? answer : undefined;
  }, { what: `${count} runs of ${jobId}`, timeoutMs: 20_000 });
}

/** The run objects of `dump --format json`. */
async function dumpedRuns(logfile: string): Promise<Record<string, unknown>[]> {
  const { stdout } = await runZtick(["dump", logfile, "--format", "json"]);
  return stdout.split("\n").filter((line) => line.startsWith('{"type":"run"'))
    .map((line) => JSON.parse(line));
}

Deno.test("HISTORY: one line per run, oldest first, as in the example of extensions.md §3", async () => {
  await using d = await startTestDaemon();
  const flag = `${d.dir}/flag`;
  await converse(
    d.port,
    `a RULE SET rule.backup backup. retries=1 backoff=10ms shell "[ -e ${flag} ] && exit 0; touch ${flag}; exit 3"\n` +
      `b SET backup.daily ${nowNs()}\n`,
  );
  const answer = await runsBecome(d.port, "backup.daily", 2);
  const match = answer.match(
    /^h 1 (\d+) (\d+) failed rule\.backup exit:3\nh 2 (\d+) (\d+) executed rule\.backup exit:0\nh OK\n$/,
  );
  assert.ok(match, answer);
  const [started1, ended1, started2, ended2] = match.slice(1).map(BigInt);
  assert.ok(
    started1! <= ended1! && ended1! < started2! && started2! <= ended2!,
  );
});

Deno.test("HISTORY bad input: unknown job, empty id or none is ERROR; a job without runs only OK; surplus ignored", async () => {
  await using d = await startTestDaemon({ persistence: "memory" });
  assert.equal(
    await converse(
      d.port,
      "a SET later.1 4102444800000000000\n" +
        "b HISTORY later.1\n" +
        "c HISTORY no.such.job\n" +
        'd HISTORY ""\n' +
        "e HISTORY\n" +
        "f HISTORY later.1 surplus arguments\n",
    ),
    "a OK\nb OK\nc ERROR\nd ERROR\ne ERROR\nf OK\n",
  );
});

Deno.test("HISTORY with namespaces: a job outside the token's namespace is ERROR", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-test-" });
  try {
    const authFile = await writeFile(`${dir}/auth.toml`, AUTH_TOML);
    await using d = await startTestDaemon({ persistence: "memory", authFile });
    assert.equal(
      await converse(
        d.port,
        `AUTH ${ADMIN_SECRET}\na SET deploy.v1 1\nb SET backup.daily 1\n`,
      ),
      "OK\na OK\nb OK\n",
    );
    await waitFor(async () => {
      const answer = await converse(
        d.port,
        `AUTH ${ADMIN_SECRET}\nh HISTORY backup.daily\n`,
      );
      return answer.includes("no-rule") || undefined;
    });
    const answer = await converse(
      d.port,
      `AUTH ${DEPLOY_SECRET}\nr1 HISTORY deploy.v1\nr2 HISTORY backup.daily\n`,
    );
    assert.match(
      answer,
      /^OK\nr1 1 (\d+) \1 failed {2}no-rule\nr1 OK\nr2 ERROR\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a shell rule writing to stderr and exiting 3: detail exit:3, the message ends with the stderr text", async () => {
  await using d = await startTestDaemon();
  await converse(
    d.port,
    `a RULE SET r s. shell "echo rsync: connection refused >&2; exit 3"\nb SET s.1 ${nowNs()}\n`,
  );
  const answer = await runsBecome(d.port, "s.1", 1);
  assert.match(answer, /^h 1 \d+ \d+ failed r exit:3\nh OK\n$/);
  const [run] = await dumpedRuns(d.logfile);
  assert.equal(run!.message, "exited with code 3: rsync: connection refused");
  assert.ok(String(run!.message).endsWith("rsync: connection refused"));
  assert.deepEqual(Object.keys(run!), [
    "type",
    "identifier",
    "attempt",
    "started",
    "ended",
    "outcome",
    "rule",
    "detail",
    "message",
  ]);
});

Deno.test("a command leaking a password in a URL shows it redacted in the run's message", async () => {
  await using d = await startTestDaemon();
  await converse(
    d.port,
    `a RULE SET r s. shell "echo cannot fetch https://deploy:hunter2@ci.example.org/x >&2; exit 1"\n` +
      `b SET s.1 ${nowNs()}\n`,
  );
  await runsBecome(d.port, "s.1", 1);
  const [run] = await dumpedRuns(d.logfile);
  assert.equal(
    run!.message,
    "exited with code 1: cannot fetch https://ci.example.org/x",
  );
  const log = await Deno.readTextFile(d.logfile);
  assert.ok(
    !log.split("\n").some((l) => l.startsWith("RUN") && l.includes("hunter2")),
  );
});

Deno.test("details: signal:<NAME>, spawn-error, http:<status>, error, and only the newest run keeps its message", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("no", { status: 503 }),
  );
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = closed.addr.port;
  closed.close();
  await using d = await startTestDaemon();
  const now = nowNs();
  await converse(
    d.port,
    `a RULE SET k k. shell "kill -9 $$"\n` +
      `b RULE SET m m. direct /no/such/program\n` +
      `c RULE SET h h. http GET http://127.0.0.1:${server.addr.port}/\n` +
      `d RULE SET e e. http GET http://127.0.0.1:${closedPort}/\n` +
      `e SET k.1 ${now}\nf SET m.1 ${now}\ng SET h.1 ${now}\ni SET e.1 ${now}\n`,
  );
  const detail = async (id: string) =>
    (await runsBecome(d.port, id, 1)).split("\n")[0]!.split(" ")[6];
  assert.equal(await detail("k.1"), "signal:SIGKILL");
  assert.equal(await detail("m.1"), "spawn-error");
  assert.equal(await detail("h.1"), "http:503");
  assert.equal(await detail("e.1"), "error");
  const messages = new Map(
    (await dumpedRuns(d.logfile)).map((run) => [run.identifier, run.message]),
  );
  assert.equal(messages.get("k.1"), "killed by SIGKILL");
  assert.match(
    String(messages.get("m.1")),
    /^cannot run "\/no\/such\/program": /,
  );
  assert.equal(
    messages.get("h.1"),
    `http://127.0.0.1:${server.addr.port}/ answered 503`,
  );
  assert.match(
    String(messages.get("e.1")),
    /^GET http:\/\/127\.0\.0\.1:\d+\/: /,
  );

  // A second run of k.1: only the newest keeps its message (dump --compact
  // keeps runs as memory and compaction do).
  await converse(d.port, `j SET k.1 ${nowNs()}\n`);
  await runsBecome(d.port, "k.1", 2);
  const compact = await runZtick([
    "dump",
    d.logfile,
    "--compact",
    "--format",
    "json",
  ]);
  const kRuns = compact.stdout.split("\n").filter((l) =>
    l.includes('"type":"run","identifier":"k.1"')
  )
    .map((l) => JSON.parse(l).message);
  assert.deepEqual(kRuns, ["", "killed by SIGKILL"]);
});

Deno.test("REMOVE deletes a job's history, SET keeps it, also after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-test-" });
  try {
    {
      await using d = await startTestDaemon({ dir });
      await converse(
        d.port,
        `a RULE SET r j. shell true\nb SET j.1 ${nowNs()}\nc SET j.2 ${nowNs()}\n`,
      );
      await runsBecome(d.port, "j.1", 1);
      await runsBecome(d.port, "j.2", 1);
      const far = 4102444800000000000n;
      assert.equal(
        await converse(
          d.port,
          `d SET j.1 ${far}\ne REMOVE j.2\nf SET j.2 ${far}\ng HISTORY j.2\n`,
        ),
        "d OK\ne OK\nf OK\ng OK\n",
      );
      assert.equal((await ask(d.port, "h HISTORY j.1")).split("\n").length, 3);
    }
    await using d = await startTestDaemon({ dir });
    assert.equal((await ask(d.port, "h HISTORY j.1")).split("\n").length, 3);
    assert.equal(await ask(d.port, "h HISTORY j.2"), "h OK\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[execution] history = 0 records no run; STAT shows the configured history", async () => {
  await using d = await startTestDaemon({ history: 0 });
  await converse(
    d.port,
    `a RULE SET r j. shell "exit 1"\nb SET j.1 ${nowNs()}\nc SET x.1 ${nowNs()}\n`,
  );
  await waitFor(async () =>
    (await ask(d.port, "g GET j.1")).startsWith("g OK failed") &&
      (await ask(d.port, "g GET x.1")).startsWith("g OK failed") || undefined
  );
  assert.equal(await ask(d.port, "h HISTORY j.1"), "h OK\n");
  assert.ok(!(await Deno.readTextFile(d.logfile)).includes("\nRUN "));
  const stat = await ask(d.port, "s STAT");
  assert.match(
    stat,
    /\ns runs_recorded 0\ns retries_scheduled 0\ns execution_history 0\ns jobs_expired 0\ns cluster_role single\ns cluster_term 0\ns OK\n$/,
  );
});

Deno.test("a lowered [execution] history keeps only the newest runs at replay", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-test-" });
  try {
    let before: string[];
    {
      await using d = await startTestDaemon({ dir });
      await converse(
        d.port,
        `a RULE SET r j. retries=3 backoff=1ms shell "exit 1"\nb SET j.1 ${nowNs()}\n`,
      );
      const answer = await runsBecome(d.port, "j.1", 4);
      before = answer.split("\n").slice(0, -2);
      assert.equal(before.length, 4);
    }
    await using d = await startTestDaemon({ dir, history: 2 });
    assert.equal(
      await ask(d.port, "h HISTORY j.1"),
      `${before.slice(2).join("\n")}\nh OK\n`,
    );
    assert.match(await ask(d.port, "s STAT"), /\ns execution_history 2\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a job found triggered at startup gets an interrupted run and runs again with its attempt", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-test-" });
  try {
    await Deno.writeTextFile(
      `${dir}/logfile`,
      `RULE SET r j. retries=2 backoff=1ms shell "echo $ZTICK_JOB_ID >> ${dir}/ran"\n` +
        "SET j.1 1711612800000000000 triggered attempt=2\n" +
        "SET j.2 1711612800000000000 triggered\n",
    );
    await using d = await startTestDaemon({ dir });
    const answer = await runsBecome(d.port, "j.1", 2);
    assert.match(
      answer,
      /^h 2 (\d+) \1 failed {2}interrupted\nh 2 \d+ \d+ executed r exit:0\nh OK\n$/,
    );
    await runsBecome(d.port, "j.2", 2);
    assert.match(
      await ask(d.port, "g GET j.1"),
      /^g OK executed 1711612800000000000\n$/,
    );
    const log = await Deno.readTextFile(`${dir}/logfile`);
    assert.match(log, /\nSET j\.1 1711612800000000000 executed attempt=2\n/);
    assert.match(
      log,
      /\nRUN j\.1 2 (\d+) \1 failed "" interrupted "interrupted: the daemon stopped before the execution ended"\n/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("on_interrupted = fail: the interrupted job fails with its interrupted run, no retry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-test-" });
  try {
    await Deno.writeTextFile(
      `${dir}/logfile`,
      "RULE SET r j. retries=2 shell true\nSET j.1 1711612800000000000 triggered attempt=2\n",
    );
    await using d = await startTestDaemon({ dir, onInterrupted: "fail" });
    assert.equal(
      await ask(d.port, "g GET j.1"),
      "g OK failed 1711612800000000000\n",
    );
    assert.match(
      await ask(d.port, "h HISTORY j.1"),
      /^h 2 (\d+) \1 failed {2}interrupted\nh OK\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const REDIS = await redisGate();
const RABBIT = await rabbitGate();

Deno.test("details of amqp and redis: error when the broker cannot be reached", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  await using d = await startTestDaemon();
  await converse(
    d.port,
    `a RULE SET q q. amqp amqp://guest:guest@127.0.0.1:${port}/ x k\n` +
      `b RULE SET r r. redis redis://:pw@127.0.0.1:${port}/0 RPUSH k\n` +
      `c SET q.1 ${nowNs()}\nd SET r.1 ${nowNs()}\n`,
  );
  for (const id of ["q.1", "r.1"]) {
    const answer = await runsBecome(d.port, id, 1);
    assert.match(answer, /^h 1 \d+ \d+ failed [qr] error\nh OK\n$/);
  }
  const messages = (await dumpedRuns(d.logfile)).map((run) =>
    String(run.message)
  );
  assert.ok(
    messages.every((m) => !m.includes("guest:guest") && !m.includes(":pw@")),
  );
});

gatedTest(
  REDIS,
  "details of redis: ok when the command succeeded",
  async () => {
    await using d = await startTestDaemon({ persistence: "memory" });
    const key = uniqueName("ztick:history");
    await converse(
      d.port,
      `a RULE SET r r. redis redis://127.0.0.1:6379/0 RPUSH ${key}\nb SET r.1 ${nowNs()}\n`,
    );
    assert.match(
      await runsBecome(d.port, "r.1", 1),
      /^h 1 \d+ \d+ executed r ok\n/,
    );
    await redisCli(["DEL", key]);
  },
);

gatedTest(
  RABBIT,
  "details of amqp: ok when the publish completed",
  async () => {
    await using d = await startTestDaemon({ persistence: "memory" });
    await converse(
      d.port,
      `a RULE SET q q. amqp amqp://guest:guest@127.0.0.1:5672/ "" ${
        uniqueName("ztick.history")
      }\n` +
        `b SET q.1 ${nowNs()}\n`,
    );
    assert.match(
      await runsBecome(d.port, "q.1", 1),
      /^h 1 \d+ \d+ executed q ok\n/,
    );
  },
);
