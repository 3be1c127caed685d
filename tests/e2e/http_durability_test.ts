/**
 * HTTP mutations have the protocol's durability: each is answered only once
 * its record is committed to the logfile, survives a restart, and a failed
 * or impossible write is answered 503 and undone (spec: http-api.md
 * preamble, persistence.md §5).
 */
import assert from "node:assert/strict";
import { waitFor } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { probeMount, unmount, withTempDir } from "../_helpers/fs.ts";
import { RawClient, utf8 } from "../_helpers/http_client.ts";
import { fillDisk } from "../_helpers/model.ts";
import {
  Api,
  assertError,
  assertJson,
  assertNoContent,
  FAR_BODY,
  FAR_NS,
  jobJson,
  ruleJson,
} from "./_http.ts";

const RULE_BODY = '{"pattern":"d.","runner":"shell","args":["echo a b"]}';

Deno.test("each HTTP mutation is in the logfile when its answer arrives", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    fsyncOnPersist: true,
  });
  const api = new Api(daemon.httpPort);
  // The daemon runs in this process: the synchronous read right after the
  // answer sees the file as it was when the answer was sent.
  const logfile = () => Deno.readTextFileSync(daemon.logfile);
  assertJson(await api.put("/jobs/d.1", FAR_BODY), 200, jobJson("d.1"));
  assert.match(logfile(), new RegExp(`^SET d\\.1 ${FAR_NS} planned$`, "m"));
  assertJson(
    await api.put("/rules/r.1", RULE_BODY),
    200,
    ruleJson("r.1", "d.", "shell"),
  );
  assert.match(logfile(), /^RULE SET r\.1 d\. shell "echo a b"$/m);
  assertNoContent(await api.delete("/jobs/d.1"));
  assert.match(logfile(), /^REMOVE d\.1$/m);
  assertNoContent(await api.delete("/rules/r.1"));
  assert.match(logfile(), /^REMOVERULE r\.1$/m);
});

Deno.test("pipelined PUTs on one connection are each answered after their own commit", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    fsyncOnPersist: true,
  });
  using client = await RawClient.connect(daemon.httpPort);
  const count = 50;
  let requests = "";
  for (let i = 0; i < count; i++) {
    requests +=
      `PUT /jobs/p.${i} HTTP/1.1\r\nHost: t\r\nContent-Length: ${FAR_BODY.length}\r\n\r\n${FAR_BODY}`;
  }
  await client.send(utf8(requests));
  for (let i = 0; i < count; i++) {
    const response = await client.response();
    assert.equal(response.body, jobJson(`p.${i}`));
    const lines = Deno.readTextFileSync(daemon.logfile).split("\n");
    assert.ok(
      lines.includes(`SET p.${i} ${FAR_NS} planned`),
      `p.${i} in the logfile`,
    );
  }
});

Deno.test("what the HTTP API answered survives a restart", async () => {
  await using first = await startTestDaemon({ http: true });
  const api = new Api(first.httpPort);
  await api.putJob("keep");
  await api.putJob("gone");
  await api.put("/rules/r", RULE_BODY);
  assertNoContent(await api.delete("/jobs/gone"));
  await first.stop();
  await using second = await startTestDaemon({ http: true, dir: first.dir });
  const again = new Api(second.httpPort);
  assertJson(await again.get("/jobs"), 200, `[${jobJson("keep")}]`);
  assertJson(
    await again.get("/rules"),
    200,
    `[${ruleJson("r", "d.", "shell")}]`,
  );
});

const MOUNT_PROBLEM = probeMount();

Deno.test({
  name:
    "on a full disk: 503 not persisted and undone, then 503 read-only, reads still served, writable again once space is back" +
    (MOUNT_PROBLEM === undefined
      ? ""
      : ` (skipped: cannot mount tmpfs: ${MOUNT_PROBLEM})`),
  ignore: MOUNT_PROBLEM !== undefined,
  fn: () =>
    withTempDir("ztick-http-full-", async (dir) => {
      const disk = `${dir}/disk`;
      await Deno.mkdir(disk);
      const mount = ["-t", "tmpfs", "-o", "size=64k", "tmpfs", disk];
      assert.ok(
        (await new Deno.Command("mount", { args: mount }).output()).success,
      );
      try {
        await onFullDisk(disk);
      } finally {
        await unmount(disk);
      }
    }),
});

async function onFullDisk(disk: string): Promise<void> {
  await using daemon = await startTestDaemon({
    http: true,
    dir: disk,
    fsyncOnPersist: true,
  });
  const api = new Api(daemon.httpPort);
  await api.putJob("kept");
  await fillDisk(`${disk}/filler`);
  // longer than the room left in the logfile's last page
  const long = "x".repeat(8192);
  assertError(await api.put(`/jobs/${long}`, FAR_BODY), 503, "not persisted");
  assertError(await api.get(`/jobs/${long}`), 404, "not found", "undone");
  assertError(await api.put("/jobs/other", FAR_BODY), 503, "read-only");
  assertError(await api.delete("/jobs/kept"), 503, "read-only");
  assertError(await api.put("/rules/r", RULE_BODY), 503, "read-only");
  assertJson(await api.get("/jobs"), 200, `[${jobJson("kept")}]`);
  assert.match(
    (await api.get("/metrics")).body,
    /^ztick_persistence_writable 0$/m,
  );
  using tcp = await daemon.connect();
  assert.equal(await tcp.request(`r1 SET other ${FAR_NS}`), "r1 ERROR");
  await Deno.remove(`${disk}/filler`);
  await waitFor(
    async () =>
      (await api.put("/jobs/other", FAR_BODY)).status === 200 || undefined,
    {
      what: "the journal to be writable again",
      intervalMs: 100,
    },
  );
  assertJson(await api.get("/jobs/other"), 200, jobJson("other"));
}
