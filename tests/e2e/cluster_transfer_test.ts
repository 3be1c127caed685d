/**
 * `ztick import` and `ztick export` (cluster.md §6): a 100,000-job
 * logfile imported, exported, and a logfile-mode daemon on the export
 * holds the same state (QUERY and LISTRULES).
 */
import assert from "node:assert/strict";
import { converse } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { tempDir, writeFile } from "../_helpers/fs.ts";
import { testDatabase } from "../_helpers/postgres.ts";
import { runZtick } from "../_helpers/subprocess.ts";
import { startNode } from "./_cluster.ts";

const TEST = { sanitizeOps: false, sanitizeResources: false };
/** 2100-01-01: no job of this test falls due. */
const FAR_NS = 4_102_444_800_000_000_000n;

/** A logfile of `n` jobs, two rules, overwrites, removals and runs. */
function logfile(n: number): string {
  const lines = [
    'RULE SET rule.a job. shell "echo \\"a b\\""',
    "RULE SET rule.b other. retries=2 backoff=1s http GET http://127.0.0.1:1/",
    "RULE SET rule.gone x. shell true",
    "REMOVERULE rule.gone",
  ];
  for (let i = 0; i < n; i++) {
    const status = i % 10 === 0 ? "executed" : "planned";
    lines.push(`SET job.${i} ${FAR_NS + BigInt(i)} ${status}`);
  }
  for (let i = 0; i < 100; i++) lines.push(`REMOVE job.${i * 7}`);
  lines.push(`SET job.3 ${FAR_NS} planned attempt=3`);
  lines.push(
    `RUN job.10 1 1000 2000 failed rule.a exit:3 "it broke"`,
    `RUN job.10 2 3000 4000 executed rule.a exit:0 ""`,
  );
  return lines.join("\n") + "\n";
}

async function stateOf(dir: string): Promise<string> {
  await using d = await startTestDaemon({ dir });
  const query = await converse(
    d.port,
    "q QUERY\nl LISTRULES\nh HISTORY job.10\n",
  );
  // the same jobs, rules and runs; QUERY's order is the store's own
  return query.split("\n").sort().join("\n");
}

Deno.test({
  name:
    "import of a 100,000-job logfile, export, and a logfile-mode daemon on the export give the same state",
  ...TEST,
  fn: async () => {
    await using a = await tempDir("ztick-import-");
    await using b = await tempDir("ztick-export-");
    await using db = await testDatabase();
    const source = await writeFile(`${a.path}/logfile`, logfile(100_000));
    const imported = await runZtick(["import", source, "--postgres", db.url]);
    assert.equal(imported.stderr, "");
    assert.equal(imported.code, 0);
    const exported = await runZtick(["export", "--postgres", db.url]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /^RULE SET rule\.a job\. shell /);
    await writeFile(`${b.path}/logfile`, exported.stdout);
    const before = await stateOf(a.path);
    const after = await stateOf(b.path);
    assert.ok(before.split("\n").length > 99_000);
    assert.equal(after, before);
    // import of the export into another empty database: the same export
    await using again = await testDatabase();
    const reimport = await runZtick([
      "import",
      `${b.path}/logfile`,
      "--postgres",
      again.url,
    ]);
    assert.equal(reimport.code, 0, reimport.stderr);
    const second = await runZtick(["export", "--postgres", again.url]);
    assert.equal(second.stdout, exported.stdout);
  },
});

Deno.test({
  name:
    "import refuses a database that holds jobs or rules: error: database is not empty, exit 1",
  ...TEST,
  fn: async () => {
    await using dir = await tempDir("ztick-import-");
    await using db = await testDatabase();
    const source = await writeFile(`${dir.path}/logfile`, logfile(3));
    assert.equal(
      (await runZtick(["import", source, "--postgres", db.url])).code,
      0,
    );
    const again = await runZtick(["import", source, "--postgres", db.url]);
    assert.equal(again.stderr, "error: database is not empty\n");
    assert.equal(again.code, 1);
  },
});

Deno.test("import and export without --postgres are usage errors (exit 2)", async () => {
  for (
    const args of [["import", "logfile"], ["export"], [
      "import",
      "--postgres",
      "postgres://db/z",
    ]]
  ) {
    const { code, stderr } = await runZtick(args);
    assert.equal(code, 2);
    assert.match(stderr, /^error: (import|export) needs /);
  }
});

Deno.test({
  name:
    "a takeover keeps renewing its lease while a large state loads (300,000 jobs, lease = 1s)",
  ...TEST,
  fn: async () => {
    await using dir = await tempDir("ztick-import-");
    await using db = await testDatabase();
    const source = await writeFile(`${dir.path}/logfile`, logfile(300_000));
    assert.equal(
      (await runZtick(["import", source, "--postgres", db.url])).code,
      0,
    );
    const node = await startNode(dir.path, db.url, { id: "a", lease: "1s" });
    try {
      await node.process.waitForLog(/\[INFO\] listening on /, 30_000);
      assert.match(
        node.process.log,
        /loaded 299,90\d jobs|loaded 29990\d jobs/,
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.doesNotMatch(node.process.log, /stepped down/);
      assert.match(node.process.log, /\[INFO\] leader \(term 1\)\n/);
    } finally {
      await node.process.stop("SIGKILL");
    }
  },
});
