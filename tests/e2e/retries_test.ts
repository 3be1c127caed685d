/** Retries with backoff through a real daemon (spec: extensions.md §2). */
import assert from "node:assert/strict";
import { converse, waitFor } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { exists } from "../_helpers/fs.ts";

const MS = 1_000_000n;
const nowNs = () => BigInt(Date.now()) * MS;

async function ask(port: number, line: string): Promise<string> {
  return await converse(port, `${line}\n`);
}

function statusBecomes(port: number, jobId: string, status: string) {
  return waitFor(async () => {
    const answer = await ask(port, `g GET ${jobId}`);
    return answer.startsWith(`g OK ${status} `) ? answer : undefined;
  }, { what: `${jobId} to be ${status}`, timeoutMs: 20_000 });
}

/** HISTORY lines without the request id and the final OK, split in fields. */
async function history(port: number, jobId: string): Promise<string[][]> {
  const answer = await ask(port, `h HISTORY ${jobId}`);
  assert.ok(answer.endsWith("h OK\n"), answer);
  return answer.split("\n").slice(0, -2).map((line) =>
    line.split(" ").slice(1)
  );
}

async function stat(port: number, key: string): Promise<string> {
  const answer = await ask(port, "s STAT");
  return answer.match(new RegExp(`^s ${key} (\\S+)$`, "m"))![1]!;
}

Deno.test("a webhook answering 503, 503, then 204 with retries=3 backoff=200ms ends executed after three attempts", async () => {
  const answers = [503, 503, 204];
  let calls = 0;
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      await request.text();
      return new Response(null, { status: answers[calls++] ?? 500 });
    },
  );
  await using d = await startTestDaemon();
  const url = `http://127.0.0.1:${server.addr.port}/hook`;
  assert.equal(
    await converse(
      d.port,
      `r1 RULE SET rule.hook hook. retries=3 backoff=200ms http POST ${url}\n` +
        `r2 SET hook.1 ${nowNs()}\n`,
    ),
    "r1 OK\nr2 OK\n",
  );
  const done = await statusBecomes(d.port, "hook.1", "executed");
  const runs = await history(d.port, "hook.1");
  assert.deepEqual(
    runs.map((
      [attempt, , , outcome, rule, detail],
    ) => [attempt, outcome, rule, detail]),
    [
      ["1", "failed", "rule.hook", "http:503"],
      ["2", "failed", "rule.hook", "http:503"],
      ["3", "executed", "rule.hook", "http:204"],
    ],
  );
  const started = runs.map((run) => BigInt(run[1]!));
  const ended = runs.map((run) => BigInt(run[2]!));
  assert.ok(started[1]! - started[0]! >= 200n * MS, "first gap ≥ 200 ms");
  assert.ok(started[2]! - started[1]! >= 400n * MS, "second gap ≥ 400 ms");
  // Each retry was planned at end + delay: the job's time is the last one.
  const execution = BigInt(done.trim().split(" ")[3]!);
  assert.ok(execution - ended[1]! >= 400n * MS);
  assert.ok(execution <= started[2]!);
  assert.equal(calls, 3);
  assert.equal(await stat(d.port, "retries_scheduled"), "2");
  assert.equal(await stat(d.port, "runs_recorded"), "3");
  const records = (await Deno.readTextFile(d.logfile)).split("\n");
  assert.deepEqual(
    records.filter((line) => line.startsWith("SET ")).map((line) =>
      line.split(" ").slice(3).join(" ")
    ),
    [
      "planned",
      "triggered",
      "planned attempt=2",
      "triggered attempt=2",
      "planned attempt=3",
      "triggered attempt=3",
      "executed attempt=3",
    ],
  );
  // Each RUN follows the status change it explains.
  const kinds = records.filter((l) => l !== "").map((l) =>
    l.split(" ")[0] + (l.includes("attempt=") ? "+" : "")
  );
  assert.deepEqual(kinds, [
    "RULE",
    "SET",
    "SET",
    "SET+",
    "RUN",
    "SET+",
    "SET+",
    "RUN",
    "SET+",
    "SET+",
    "RUN",
  ]);
});

Deno.test("a job waiting for its retry shows planned at its retry time; a SET starts over, a REMOVE ends it", async () => {
  await using d = await startTestDaemon();
  await converse(
    d.port,
    `a RULE SET r j. retries=5 backoff=1h shell "exit 1"\n` +
      `b SET j.1 ${nowNs()}\nc SET j.2 ${nowNs()}\n`,
  );
  for (const id of ["j.1", "j.2"]) {
    await waitFor(async () =>
      (await history(d.port, id)).length === 1 || undefined
    );
  }
  const [[, , ended]] = await history(d.port, "j.1") as [string[]];
  const planned = BigInt(
    (await ask(d.port, "g GET j.1")).trim().split(" ")[3]!,
  );
  const delay = planned - BigInt(ended!);
  assert.ok(
    delay >= 3_600_000n * MS && delay < 3_960_000n * MS,
    `delay ${delay}`,
  );
  assert.match(await ask(d.port, "g GET j.1"), /^g OK planned \d+\n$/);

  const later = nowNs() + 7_200_000n * MS;
  assert.equal(
    await converse(d.port, `d SET j.1 ${later}\ne REMOVE j.2\n`),
    "d OK\ne OK\n",
  );
  const log = await Deno.readTextFile(d.logfile);
  assert.ok(
    log.endsWith(`SET j.1 ${later} planned\nREMOVE j.2\n`),
    "attempt 1 again",
  );
  assert.equal(
    (await history(d.port, "j.1")).length,
    1,
    "SET keeps the history",
  );
  assert.equal(await ask(d.port, "h HISTORY j.2"), "h ERROR\n");
  assert.equal(await ask(d.port, "h GET j.2"), "h ERROR\n");
});

Deno.test("a job re-SET while its attempt runs is not retried; its run is still recorded", async () => {
  await using d = await startTestDaemon();
  const dir = d.dir;
  await converse(
    d.port,
    `a RULE SET r x. retries=3 backoff=1ms shell "touch ${dir}/started; while [ ! -e ${dir}/go ]; do sleep 0.02; done; exit 1"\n` +
      `b SET x.1 ${nowNs()}\n`,
  );
  await waitFor(async () => await exists(`${dir}/started`) || undefined);
  const later = nowNs() + 3_600_000n * MS;
  assert.equal(await ask(d.port, `c SET x.1 ${later}`), "c OK\n");
  await Deno.writeTextFile(`${dir}/go`, "");
  await waitFor(async () =>
    (await history(d.port, "x.1")).length === 1 || undefined
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(await ask(d.port, "g GET x.1"), `g OK planned ${later}\n`);
  const [[attempt, , , outcome, , detail]] = await history(d.port, "x.1") as [
    string[],
  ];
  assert.deepEqual([attempt, outcome, detail], ["1", "failed", "exit:1"]);
  assert.equal(await stat(d.port, "retries_scheduled"), "0");
});

Deno.test("a job no rule matches fails at once with a no-rule run and is never retried", async () => {
  await using d = await startTestDaemon({ persistence: "memory" });
  assert.equal(
    await converse(
      d.port,
      "a RULE SET r other. retries=5 shell true\nb SET my.job 1711612800000000000\n",
    ),
    "a OK\nb OK\n",
  );
  await statusBecomes(d.port, "my.job", "failed");
  const answer = await ask(d.port, "h HISTORY my.job");
  assert.match(answer, /^h 1 (\d+) \1 failed {2}no-rule\nh OK\n$/);
  assert.equal(await stat(d.port, "retries_scheduled"), "0");
});

Deno.test("a rule's timeout overrides [execution] timeout, and a timed-out attempt is retried", async () => {
  await using d = await startTestDaemon({
    persistence: "memory",
    timeoutS: 60,
  });
  await converse(
    d.port,
    `a RULE SET r t. retries=1 backoff=1ms timeout=200ms shell "sleep 5"\nb SET t.1 ${nowNs()}\n`,
  );
  await statusBecomes(d.port, "t.1", "failed");
  const runs = await history(d.port, "t.1");
  assert.deepEqual(runs.map((run) => [run[0], run[3], run[5]]), [
    ["1", "failed", "timeout"],
    ["2", "failed", "timeout"],
  ]);
  for (const run of runs) {
    const ms = (BigInt(run[2]!) - BigInt(run[1]!)) / MS;
    assert.ok(ms >= 200n && ms < 3000n, `ran ${ms} ms`);
  }
});

Deno.test("timeout=0 on a rule means no limit, whatever [execution] timeout says", async () => {
  await using d = await startTestDaemon({ persistence: "memory", timeoutS: 1 });
  await converse(
    d.port,
    `a RULE SET r t. timeout=0 shell "sleep 1.3"\nb RULE SET s s. shell "sleep 1.3"\n` +
      `c SET t.1 ${nowNs()}\nd SET s.1 ${nowNs()}\n`,
  );
  await statusBecomes(d.port, "t.1", "executed");
  await statusBecomes(d.port, "s.1", "failed");
  const [[, , , , , detail]] = await history(d.port, "s.1") as [string[]];
  assert.equal(detail, "timeout");
});

Deno.test("a retry planned before a restart runs at its time after it, with its attempt number", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-test-" });
  try {
    let retryNs: bigint;
    {
      await using d = await startTestDaemon({ dir });
      await converse(
        d.port,
        `a RULE SET r j. retries=2 backoff=1500ms shell "echo $ZTICK_JOB_ID >> ${dir}/ran; exit 1"\n` +
          `b SET j.1 ${nowNs()}\n`,
      );
      const planned = await waitFor(async () => {
        const answer = await ask(d.port, "g GET j.1");
        return (await history(d.port, "j.1")).length === 1 ? answer : undefined;
      });
      retryNs = BigInt(planned.trim().split(" ")[3]!);
    }
    await using d = await startTestDaemon({ dir });
    assert.equal(await ask(d.port, "g GET j.1"), `g OK planned ${retryNs}\n`);
    await waitFor(async () =>
      (await history(d.port, "j.1")).length === 2 || undefined
    );
    const runs = await history(d.port, "j.1");
    assert.equal(runs[1]![0], "2");
    assert.ok(BigInt(runs[1]![1]!) >= retryNs, "not before its time");
    assert.match(
      await Deno.readTextFile(`${dir}/logfile`),
      /planned attempt=3\n/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
