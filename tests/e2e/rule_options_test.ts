/**
 * Rule options through a real daemon: RULE SET, LISTRULES, the logfile, a
 * restart and dump, with exact answer bytes (spec: extensions.md §1, §5).
 */
import assert from "node:assert/strict";
import { converse } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { runZtick } from "../_helpers/subprocess.ts";

const HOOK = "http POST http://127.0.0.1:8080/hook";

Deno.test("RULE SET with options and LISTRULES: the example of extensions.md §1", async () => {
  await using d = await startTestDaemon();
  assert.equal(
    await converse(
      d.port,
      `r1 RULE SET rule.hook hook. retries=5 backoff=30s max_backoff=10m ${HOOK}\n` +
        "r2 LISTRULES\n",
    ),
    "r1 OK\n" +
      `r2 rule.hook hook. retries=5 backoff=30s max_backoff=10m ${HOOK}\n` +
      "r2 OK\n",
  );
});

Deno.test("rule options: any order, quoted as a whole, rendered canonically in key order", async () => {
  await using d = await startTestDaemon({ persistence: "memory" });
  const cases: [string, string][] = [
    [
      "timeout=0 max_backoff=600s backoff=90 retries=005",
      "retries=5 backoff=90s max_backoff=10m timeout=0s",
    ],
    ['"retries=3"', "retries=3"],
    ["backoff=120s", "backoff=2m"],
    ["backoff=1500ms max_backoff=7200s", "backoff=1500ms max_backoff=2h"],
    ["timeout=86400", "timeout=1d"],
    ["retries=0", "retries=0"],
    ["retries=100 backoff=1ms", "retries=100 backoff=1ms"],
    [
      "max_backoff=4294967295s timeout=4294967295000ms",
      "max_backoff=4294967295s timeout=4294967295s",
    ],
  ];
  for (const [given, shown] of cases) {
    assert.equal(
      await converse(
        d.port,
        `a RULE SET r p. ${given} shell true\nb LISTRULES\n`,
      ),
      `a OK\nb r p. ${shown} shell true\nb OK\n`,
      given,
    );
  }
});

Deno.test("rule options: every bad input of extensions.md §1 is ERROR and stores nothing", async () => {
  await using d = await startTestDaemon({ persistence: "memory" });
  const bad = [
    "retry=3", // unknown key
    "retries=1 retries=1", // key given twice
    "=5", // empty key
    "retries=", // empty value
    "backoff=", // empty value
    "retries=3=4", // a second = in the value
    'retries="3"', // two tokens: retries= and 3
    "retries=101", // out of range
    "retries=-1",
    "retries=3.0", // not of its type
    "retries=+3",
    "retries=1s",
    "backoff=0", // backoff=0
    "backoff=0ms",
    "backoff=1h30m", // combined units
    "backoff=1.5s", // fractions
    "backoff=+3", // signs
    "backoff=10S", // upper-case units
    "timeout=4294967296", // above 2^32-1 s
    "timeout=49711d",
    "max_backoff=5s", // below the defaulted backoff (10s)
    "backoff=2h", // above the defaulted max_backoff (1h)
    "backoff=2m max_backoff=1m", // max_backoff below backoff
  ];
  for (const options of bad) {
    assert.equal(
      await converse(
        d.port,
        `a RULE SET r p. ${options} shell true\nb LISTRULES\n`,
      ),
      "a ERROR\nb OK\n",
      options,
    );
  }
});

Deno.test("rule options: after the runner type a token is a runner argument", async () => {
  await using d = await startTestDaemon({ persistence: "memory" });
  assert.equal(
    await converse(
      d.port,
      "a RULE SET r p. shell true retries=3\n" + // shell takes one argument
        "b RULE SET d p. direct /bin/echo retries=3\n" +
        "c RULE SET o p. retries=1\n" + // options but no runner type
        "e LISTRULES\n",
    ),
    "a ERROR\nb OK\nc ERROR\ne d p. direct /bin/echo retries=3\ne OK\n",
  );
});

Deno.test("rule options: a rule without options is byte-identical to ztick in LISTRULES, the logfile and dump", async () => {
  await using d = await startTestDaemon();
  assert.equal(
    await converse(
      d.port,
      'a RULE SET rule.cache cache. shell "find /var/cache/app -mtime +7 -delete"\nb LISTRULES\n',
    ),
    "a OK\nb rule.cache cache. shell find /var/cache/app -mtime +7 -delete\nb OK\n",
  );
  const line =
    'RULE SET rule.cache cache. shell "find /var/cache/app -mtime +7 -delete"\n';
  assert.equal(await Deno.readTextFile(d.logfile), line);
  const json = await runZtick(["dump", d.logfile, "--format", "json"]);
  assert.equal(
    json.stdout,
    '{"type":"rule_set","identifier":"rule.cache","pattern":"cache.","runner":{"type":"shell","command":"find /var/cache/app -mtime +7 -delete"}}\n',
  );
});

Deno.test("rule options: canonical in the logfile, kept across a restart and a compaction, shown by dump", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-test-" });
  try {
    {
      await using d = await startTestDaemon({ dir });
      assert.equal(
        await converse(
          d.port,
          "a RULE SET rule.hook hook. timeout=120 backoff=30000ms retries=05 " +
            `${HOOK}\n`,
        ),
        "a OK\n",
      );
    }
    const record =
      `RULE SET rule.hook hook. retries=5 backoff=30s timeout=2m ${HOOK}\n`;
    assert.equal(await Deno.readTextFile(`${dir}/logfile`), record);
    const shown =
      `b rule.hook hook. retries=5 backoff=30s timeout=2m ${HOOK}\nb OK\n`;
    {
      await using d = await startTestDaemon({ dir, compressionIntervalS: 1 });
      assert.equal(await converse(d.port, "b LISTRULES\n"), shown);
      await new Promise((resolve) => setTimeout(resolve, 1300));
      assert.match(
        await converse(d.port, "s STAT\n"),
        /\ns compression success\n/,
      );
      assert.equal(await Deno.readTextFile(`${dir}/logfile`), record);
    }
    const text = await runZtick(["dump", `${dir}/logfile`]);
    assert.equal(text.stdout, record);
    const json = await runZtick(["dump", `${dir}/logfile`, "--format", "json"]);
    assert.equal(
      json.stdout,
      '{"type":"rule_set","identifier":"rule.hook","pattern":"hook.",' +
        '"options":{"retries":5,"backoff":"30s","timeout":"2m"},' +
        '"runner":{"type":"http","method":"POST","url":"http://127.0.0.1:8080/hook"}}\n',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
