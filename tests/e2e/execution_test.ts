/** Jobs firing through real runners in a real daemon (spec: runners.md §1–§4). */
import assert from "node:assert/strict";
import { converse, waitFor } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { exists, pgrep } from "../_helpers/fs.ts";

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

async function status(port: number, jobId: string): Promise<string> {
  return (await converse(port, `g GET ${jobId}\n`)).trim();
}

function statusBecomes(port: number, jobId: string, expected: string) {
  return waitFor(
    async () =>
      (await status(port, jobId)).startsWith(`g OK ${expected} `) || undefined,
    {
      what: `${jobId} to be ${expected}`,
    },
  );
}

Deno.test("a due job runs its rule's shell command with the job context", async () => {
  await using d = await startTestDaemon({ persistence: "memory" });
  const out = `${d.dir}/out`;
  const answer = await converse(
    d.port,
    `r1 RULE SET rule.backup backup. shell "printf '%s %s' \\"$ZTICK_JOB_ID\\" \\"$ZTICK_RULE_ID\\" > ${out}"\n` +
      `r2 SET backup.daily ${nowNs()}\n`,
  );
  assert.equal(answer, "r1 OK\nr2 OK\n");
  await statusBecomes(d.port, "backup.daily", "executed");
  assert.equal(await Deno.readTextFile(out), "backup.daily rule.backup");
});

Deno.test("a direct rule passes metacharacters to the program unchanged", async () => {
  await using d = await startTestDaemon({ persistence: "memory" });
  const out = `${d.dir}/out`;
  await converse(
    d.port,
    `r1 RULE SET r d. direct /bin/sh -c "printf '%s|' \\"$@\\" > ${out}" sh ";" "$(id)" "|"\nr2 SET d.1 ${nowNs()}\n`,
  );
  await statusBecomes(d.port, "d.1", "executed");
  assert.equal(await Deno.readTextFile(out), ";|$(id)|||");
});

Deno.test("a failing command and a missing program leave the job failed", async () => {
  await using d = await startTestDaemon({ persistence: "memory" });
  await converse(
    d.port,
    `a RULE SET r1 f. shell "exit 3"\nb RULE SET r2 m. direct /no/such/program\nc SET f.1 ${nowNs()}\nd SET m.1 ${nowNs()}\n`,
  );
  await statusBecomes(d.port, "f.1", "failed");
  await statusBecomes(d.port, "m.1", "failed");
});

Deno.test("a job with no matching rule fails when due", async () => {
  await using d = await startTestDaemon({ persistence: "memory" });
  assert.equal(
    await converse(d.port, "r1 SET my.job 1711612800000000000\n"),
    "r1 OK\n",
  );
  await statusBecomes(d.port, "my.job", "failed");
});

Deno.test("a `sleep 3` job does not delay a job due 0.5 s later", async () => {
  await using d = await startTestDaemon({ persistence: "memory" });
  const start = nowNs();
  await converse(
    d.port,
    `a RULE SET slow slow. shell "sleep 3"\nb RULE SET fast fast. shell true\n` +
      `c SET slow.1 ${start}\nd SET fast.1 ${start + 500_000_000n}\n`,
  );
  await statusBecomes(d.port, "fast.1", "executed");
  assert.match(
    await status(d.port, "slow.1"),
    /^g OK triggered /,
    "the slow job is still running",
  );
  await statusBecomes(d.port, "slow.1", "executed");
});

Deno.test("a timed-out `sh -c 'sleep 100'` fails and leaves no process behind", async () => {
  await using d = await startTestDaemon({ persistence: "memory", timeoutS: 1 });
  const marker = `sleep 100.${Math.floor(Math.random() * 1e9)}`;
  await converse(
    d.port,
    `a RULE SET r t. shell "${marker}"\nb SET t.1 ${nowNs()}\n`,
  );
  await waitFor(async () => (await pgrep(marker)) || undefined, {
    what: "the sleep to start",
  });
  await statusBecomes(d.port, "t.1", "failed");
  await waitFor(async () => !(await pgrep(marker)) || undefined, {
    what: "the sleep to be gone",
  });
});

Deno.test("STAT counts pending and in-flight executions under the concurrency limit", async () => {
  await using d = await startTestDaemon({
    persistence: "memory",
    concurrency: 1,
    timeoutS: 5,
  });
  const dir = d.dir;
  await converse(
    d.port,
    `a RULE SET r q. shell "while [ ! -e ${dir}/go ]; do sleep 0.02; done"\n` +
      `b SET q.1 ${nowNs()}\nc SET q.2 ${nowNs()}\nd SET q.3 ${nowNs()}\n`,
  );
  await waitFor(async () => {
    const stat = await converse(d.port, "s STAT\n");
    return stat.includes("s executions_inflight 1\n") &&
        stat.includes("s executions_pending 2\n") || undefined;
  }, { what: "1 in flight and 2 pending" });
  await Deno.writeTextFile(`${dir}/go`, "");
  for (const id of ["q.1", "q.2", "q.3"]) {
    await statusBecomes(d.port, id, "executed");
  }
});

Deno.test("an http rule posts to a real local server when the job is due", async () => {
  const bodies: string[] = [];
  await using server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  }, async (request) => {
    bodies.push(await request.text());
    return new Response("ok");
  });
  await using d = await startTestDaemon({ persistence: "memory" });
  await converse(
    d.port,
    `a RULE SET rule.hook deploy. http POST http://127.0.0.1:${server.addr.port}/hooks/deploy\n` +
      `b SET deploy.release.42 2026-04-01 12:00:00\n`,
  );
  await statusBecomes(d.port, "deploy.release.42", "executed");
  assert.deepEqual(bodies, [
    '{"job_id":"deploy.release.42","execution":1775044800000000000}',
  ]);
});

Deno.test("re-SET of a running job: its outcome is discarded and the new schedule stands", async () => {
  await using d = await startTestDaemon({ persistence: "memory" });
  const dir = d.dir;
  await converse(
    d.port,
    `a RULE SET r x. shell "touch ${dir}/started; while [ ! -e ${dir}/go ]; do sleep 0.02; done"\nb SET x.1 ${nowNs()}\n`,
  );
  await waitFor(async () => await exists(`${dir}/started`) || undefined, {
    what: "the job to start",
  });
  const later = nowNs() + 3_600_000_000_000n;
  assert.equal(await converse(d.port, `c SET x.1 ${later}\n`), "c OK\n");
  await Deno.writeTextFile(`${dir}/go`, "");
  await waitFor(async () =>
    (await converse(d.port, "s STAT\n")).includes(
      "s executions_inflight 0\n",
    ) || undefined
  );
  assert.equal(await status(d.port, "x.1"), `g OK planned ${later}`);
});
