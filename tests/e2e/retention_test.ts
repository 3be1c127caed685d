/**
 * Retention against a real daemon and logfile: finished one-shot jobs go
 * after `[execution] retention`, as REMOVE records, counted in STAT
 * `jobs_expired`, and stay gone after a restart; planned jobs stay (spec:
 * extensions.md §7).
 */
import assert from "node:assert/strict";
import { converse, waitFor } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";

const FAR = "4102444800000000000";

function statValue(answer: string, key: string): string | undefined {
  return new RegExp(`^s ${key} (.*)$`, "m").exec(answer)?.[1];
}

Deno.test("with retention = 2s, executed and failed jobs disappear after about 2 s and stay gone after a restart; planned jobs stay", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-retention-" });
  try {
    {
      await using daemon = await startTestDaemon({ dir, retentionMs: 2000 });
      const nowNs = BigInt(Date.now()) * 1_000_000n;
      assert.equal(
        await converse(
          daemon.port,
          "a RULE SET r.ok done. shell true\n" +
            'b RULE SET r.fail fail. shell "exit 1"\n' +
            `c SET done.1 ${nowNs}\nd SET fail.1 ${nowNs}\n` +
            `e SET planned.1 ${FAR}\n`,
        ),
        "a OK\nb OK\nc OK\nd OK\ne OK\n",
      );
      // the end of fail.1's run, by the daemon's clock
      const endedNs = await waitFor(async () => {
        const answer = await converse(daemon.port, "h HISTORY fail.1\n");
        return /^h 1 [0-9]+ ([0-9]+) failed /.exec(answer)?.[1];
      }, { what: "fail.1's run" });
      await waitFor(async () => {
        const answer = await converse(
          daemon.port,
          "g1 GET done.1\ng2 GET fail.1\n",
        );
        return answer === "g1 ERROR\ng2 ERROR\n" ? true : undefined;
      }, { what: "the finished jobs removed", timeoutMs: 15_000 });
      // not before the retention had passed since the run ended
      const sinceEndMs = (BigInt(Date.now()) * 1_000_000n - BigInt(endedNs)) /
        1_000_000n;
      assert.ok(sinceEndMs >= 2000n, `removed ${sinceEndMs} ms after`);
      const stat = await converse(daemon.port, "s STAT\n");
      assert.equal(statValue(stat, "jobs_expired"), "2");
      assert.match(
        await converse(daemon.port, "p GET planned.1\n"),
        /^p OK planned /,
      );
    }
    const logfile = await Deno.readTextFile(`${dir}/logfile`);
    assert.match(logfile, /^REMOVE done\.1$/m);
    assert.match(logfile, /^REMOVE fail\.1$/m);
    await using again = await startTestDaemon({ dir });
    assert.equal(
      await converse(again.port, "a GET done.1\nb GET fail.1\nc QUERY\n"),
      `a ERROR\nb ERROR\nc planned.1 planned ${FAR}\nc OK\n`,
    );
    const stat = await converse(again.port, "s STAT\n");
    assert.equal(statValue(stat, "jobs_expired"), "0", "since startup");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without retention (the default), finished jobs are kept", async () => {
  await using daemon = await startTestDaemon({ persistence: "memory" });
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  await converse(
    daemon.port,
    `a RULE SET r d. shell true\nb SET d.1 ${nowNs}\n`,
  );
  await waitFor(async () => {
    const answer = await converse(daemon.port, "g GET d.1\n");
    return answer.startsWith("g OK executed") ? true : undefined;
  }, { what: "d.1 executed" });
  const stat = await converse(daemon.port, "s STAT\n");
  assert.equal(statValue(stat, "jobs_expired"), "0");
  assert.match(await converse(daemon.port, "g GET d.1\n"), /^g OK executed /);
});
