/**
 * What clients see of a cluster (cluster.md §4): /health/leader, 503 on a
 * follower's data endpoints, STAT's cluster keys, followers closed to the
 * protocol, and a SIGTERM that releases the lease for a quick takeover.
 */
import assert from "node:assert/strict";
import { TestClient } from "../_helpers/client.ts";
import { tempDir } from "../_helpers/fs.ts";
import { testDatabase } from "../_helpers/postgres.ts";
import { spansOf, startOtlpReceiver } from "../_helpers/otlp_receiver.ts";
import { type Node, startNode, waitForLeader } from "./_cluster.ts";

const TEST = { sanitizeOps: false, sanitizeResources: false };

async function get(node: Node, path: string): Promise<[number, string]> {
  const response = await fetch(`http://127.0.0.1:${node.httpPort}${path}`);
  return [response.status, await response.text()];
}

/** The URL with a password the trusting test server ignores. */
function withPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = "never-logged-pw";
  return parsed.href;
}

Deno.test({
  name:
    "cluster: leader and follower over HTTP and TCP; STAT shows the role and term; the password is never logged",
  ...TEST,
  fn: async () => {
    await using dir = await tempDir("ztick-cluster-");
    await using db = await testDatabase();
    const url = withPassword(db.url);
    const a = await startNode(dir.path, url, { id: "a", lease: "2s" });
    const leader = await waitForLeader([a]);
    const b = await startNode(dir.path, url, { id: "b", lease: "2s" });
    try {
      assert.deepEqual(await get(leader, "/health/leader"), [
        200,
        '{"status":"ok","role":"leader"}',
      ]);
      assert.deepEqual(await get(b, "/health/leader"), [
        503,
        '{"status":"ok","role":"follower"}',
      ]);
      assert.deepEqual(await get(b, "/health"), [200, '{"status":"ok"}']);
      for (
        const path of ["/jobs", "/jobs/x", "/rules", "/executions", "/stats"]
      ) {
        assert.deepEqual(
          await get(b, path),
          [503, '{"error":"not leader"}'],
          path,
        );
      }
      assert.equal((await get(b, "/metrics"))[0], 200);
      assert.equal((await get(leader, "/jobs"))[0], 200);
      await assert.rejects(TestClient.connect(b.port));
      using client = await TestClient.connect(leader.port);
      const stat = await client.request("s STAT");
      assert.match(stat, /\ns persistence postgres\n/);
      assert.match(stat, /\ns cluster_role leader\ns cluster_term 1\ns OK$/);
      assert.equal(
        await client.request("s SET kept 4102444800000000000"),
        "s OK",
      );
      // SIGTERM releases the lease: b leads within lease/3 and the load
      const stoppedMs = Date.now();
      assert.equal(await a.process.stop("SIGTERM"), 0);
      const next = await waitForLeader([b]);
      const takeoverMs = Date.now() - stoppedMs;
      assert.ok(takeoverMs < 2000, `takeover took ${takeoverMs} ms`);
      using second = await TestClient.connect(next.port);
      assert.equal(
        await second.request("g GET kept"),
        "g OK planned 4102444800000000000",
      );
      assert.match(await second.request("s STAT"), /\ns cluster_term 2\n/);
      assert.match(b.process.log, /\[INFO\] leader \(term 2\)\n/);
      for (const log of [a.process.log, b.process.log]) {
        assert.ok(!log.includes("never-logged-pw"), log);
      }
    } finally {
      await a.process.stop("SIGKILL");
      await b.process.stop("SIGKILL");
    }
  },
});

Deno.test({
  name: "cluster: the leader exports OpenTelemetry spans of its requests",
  ...TEST,
  fn: async () => {
    await using dir = await tempDir("ztick-cluster-");
    await using db = await testDatabase();
    await using receiver = startOtlpReceiver();
    const node = await startNode(dir.path, db.url, {
      id: "a",
      lease: "2s",
      extra:
        `[telemetry]\nenabled = true\nendpoint = "${receiver.endpoint}"\n` +
        `flush_interval_ms = 100\n`,
    });
    try {
      const leader = await waitForLeader([node]);
      using client = await TestClient.connect(leader.port);
      assert.equal(
        await client.request("s SET traced 4102444800000000000"),
        "s OK",
      );
      await receiver.waitFor(
        () =>
          spansOf(receiver).some(({ item }) => item.name === "ztick.request"),
        10_000,
      );
    } finally {
      await node.process.stop("SIGKILL");
    }
  },
});
