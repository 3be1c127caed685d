/** Abuse limits, the clients that send little or garbage: idle and half-line clients, random bytes, and the delay after a failed AUTH (the cap and back-pressure are in limits_test.ts). */
import assert from "node:assert/strict";
import { TestClient } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import {
  AUTH_TOML,
  connectRaw,
  DEPLOY_SECRET,
  randomBytes,
  readToClose,
  sendAll,
} from "./_security.ts";
import { writeFile } from "../_helpers/fs.ts";
import { statOnNewConnection } from "./_limits.ts";

Deno.test("idle clients and half-sent lines never block another client", async () => {
  await using d = await startTestDaemon({ persistence: "memory" });
  using idle = await TestClient.connect(d.port);
  using half = await TestClient.connect(d.port);
  await half.send("r1 SET half.line 40709088");
  using longHalf = await TestClient.connect(d.port);
  await longHalf.send(`r2 GET ${"x".repeat(100_000)}`); // over-long, no LF yet
  const { answer, ms } = await statOnNewConnection(d.port);
  assert.match(answer, /^s connections 4$/m);
  assert.ok(ms < 2000, `answered after ${ms} ms`);
  // The half line completes later and is answered then.
  await half.send("00000000000\n");
  assert.equal(await half.readLine(), "r1 OK");
  await longHalf.send("\n");
  assert.equal(await longHalf.readLine(), "r2 ERROR");
  assert.equal(
    await idle.request("r3 GET half.line"),
    "r3 OK planned 4070908800000000000",
  );
});

Deno.test("unauthenticated idle and half-line clients never block an authenticated one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-limits-" });
  try {
    const authFile = await writeFile(`${dir}/auth.toml`, AUTH_TOML);
    await using d = await startTestDaemon({ persistence: "memory", authFile });
    using _idle = await connectRaw(d.port);
    using half = await connectRaw(d.port);
    await sendAll(half, "AUTH sk_dep");
    using client = await TestClient.connect(d.port);
    assert.equal(await client.request(`AUTH ${DEPLOY_SECRET}`), "OK");
    assert.match(await client.request("s STAT"), /^s connections 3$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("200 KB of random bytes never stop the daemon answering", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-limits-" });
  try {
    const authFile = await writeFile(`${dir}/auth.toml`, AUTH_TOML);
    await using open = await startTestDaemon({ persistence: "memory" });
    await using locked = await startTestDaemon({
      persistence: "memory",
      authFile,
    });
    for (const [port, seed] of [[open.port, 1], [locked.port, 2]] as const) {
      using noisy = await connectRaw(port);
      const draining = readToClose(noisy);
      const noise = randomBytes(200 * 1024, seed);
      for (let i = 0; i < noise.length; i += 4096) {
        await sendAll(noisy, noise.subarray(i, i + 4096));
      }
      // Meanwhile and afterwards a new client is answered.
      using client = await TestClient.connect(port);
      if (port === locked.port) {
        assert.equal(await client.request(`AUTH ${DEPLOY_SECRET}`), "OK");
      }
      assert.match(await client.request("s STAT"), /^s OK$/m);
      await noisy.closeWrite().catch(() => {});
      const { text } = await draining;
      // Nothing but error answers comes back; with auth on, just one.
      for (const line of text.split("\n").slice(0, -1)) {
        assert.match(line, /ERROR$/, JSON.stringify(line));
      }
      if (port === locked.port) assert.equal(text, "ERROR\n");
      assert.equal(await client.request("g GET none"), "g ERROR");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a refused AUTH is answered only after a delay; a line before AUTH at once; both then closed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-limits-" });
  try {
    const authFile = await writeFile(`${dir}/auth.toml`, AUTH_TOML);
    await using d = await startTestDaemon({ persistence: "memory", authFile });
    for (const input of ["AUTH wrong\n", "AUTH\n", "r1 STAT\n"]) {
      using conn = await connectRaw(d.port);
      const started = performance.now();
      await sendAll(conn, input);
      const first = new Uint8Array(64);
      const n = await conn.read(first);
      const answeredMs = performance.now() - started;
      assert.equal(
        new TextDecoder().decode(first.subarray(0, n ?? 0)),
        "ERROR\n",
      );
      const { text, afterMs } = await readToClose(conn, started);
      assert.equal(text, "");
      assert.ok(afterMs >= 200, `closed after ${afterMs} ms (${input.trim()})`);
      if (input.startsWith("AUTH")) {
        // A guesser that hangs up on reading ERROR gains nothing by it.
        assert.ok(answeredMs >= 200, `answered after ${answeredMs} ms`);
      } else {
        assert.ok(answeredMs < afterMs);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
