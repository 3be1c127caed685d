/**
 * TLS on the protocol port (protocol.md §1): the protocol inside is
 * unchanged, and a client that fails the handshake — plaintext, aborted,
 * garbage, untrusting — never affects another TLS client.
 */
import assert from "node:assert/strict";
import { TestClient } from "../_helpers/client.ts";
import { startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { ManualClock } from "../_helpers/doubles.ts";
import {
  AUTH_TOML,
  connectRaw,
  connectTls,
  DEPLOY_SECRET,
  makeCert,
  randomBytes,
  readToClose,
  sendAll,
  type TestCert,
} from "./_security.ts";
import { writeFile } from "../_helpers/fs.ts";

const T = "2026-04-01 12:00:00";
// 2026-01-01 00:00:00 UTC: T lies ahead, so jobs stay planned.
const BEFORE_T = 1_767_225_600_000_000_000n;

interface TlsDaemon extends AsyncDisposable {
  readonly d: TestDaemon;
  readonly port: number;
  readonly cert: TestCert;
}

async function tlsDaemon(options: { auth?: boolean } = {}): Promise<TlsDaemon> {
  const dir = await Deno.makeTempDir({ prefix: "ztick-tls-" });
  const cert = await makeCert(dir);
  const authFile = options.auth
    ? await writeFile(`${dir}/auth.toml`, AUTH_TOML)
    : undefined;
  const d = await startTestDaemon({
    persistence: "memory",
    clock: new ManualClock(BEFORE_T),
    tls: { cert: cert.certPath, key: cert.keyPath },
    ...(authFile ? { authFile } : {}),
  });
  return {
    d,
    port: d.port,
    cert,
    async [Symbol.asyncDispose]() {
      await d[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("the protocol runs unchanged over TLS; STAT shows tls_enabled 1", async () => {
  await using t = await tlsDaemon();
  using client = await connectTls(t.port, t.cert);
  assert.equal(await client.request(`r1 SET a.b ${T}`), "r1 OK");
  assert.equal(
    await client.request("r2 GET a.b"),
    "r2 OK planned 1775044800000000000",
  );
  const stat = await client.request("s STAT");
  assert.match(stat, /^s tls_enabled 1$/m);
  assert.match(stat, /^s auth_enabled 0$/m);
  assert.match(stat, /^s connections 1$/m);
  // Pipelined requests in one TLS record, then half-close: all answered.
  await client.send("p1 GET a.b\np2 GET none\n");
  assert.equal(await client.readLine(), "p1 OK planned 1775044800000000000");
  assert.equal(await client.readLine(), "p2 ERROR");
});

Deno.test("AUTH and namespaces work over TLS", async () => {
  await using t = await tlsDaemon({ auth: true });
  using client = await connectTls(t.port, t.cert);
  assert.equal(await client.request(`AUTH ${DEPLOY_SECRET}`), "OK");
  assert.equal(await client.request(`r1 SET deploy.x ${T}`), "r1 OK");
  assert.equal(await client.request(`r2 SET backup.x ${T}`), "r2 ERROR");
  const stat = await client.request("s STAT");
  assert.match(stat, /^s auth_enabled 1$/m);
  assert.match(stat, /^s tls_enabled 1$/m);
});

Deno.test("a plaintext client on the TLS port gets no protocol answer and is dropped", async () => {
  await using t = await tlsDaemon();
  using conn = await connectRaw(t.port);
  await sendAll(conn, "r1 STAT\nr2 SET a.b 1\n");
  const { text } = await readToClose(conn);
  assert.doesNotMatch(text, /r1|r2|OK/);
  // Nothing was applied.
  using client = await connectTls(t.port, t.cert);
  assert.equal(await client.request("g GET a.b"), "g ERROR");
});

Deno.test("failed, aborted and stalled handshakes never affect a TLS client's answers", async () => {
  await using t = await tlsDaemon();
  using good = await connectTls(t.port, t.cert);
  assert.equal(await good.request(`r0 SET keep.me ${T}`), "r0 OK");

  // 1. A plaintext client that stays connected (its handshake never ends).
  using plainIdle = await connectRaw(t.port);
  await sendAll(plainIdle, "r1 STAT\n");
  // 2. A TCP client that never says anything.
  using _silent = await connectRaw(t.port);
  // 3. A client that starts a real handshake and aborts it at once.
  const aborted = await connectRaw(t.port);
  const upgrading = Deno.startTls(aborted, {
    hostname: "127.0.0.1",
    caCerts: [t.cert.certPem],
  });
  const abortedTls = await upgrading;
  abortedTls.close(); // before the handshake completes
  // 4. A client that does not trust the certificate: its handshake fails.
  await assert.rejects(async () => {
    const conn = await Deno.connectTls({ hostname: "127.0.0.1", port: t.port });
    try {
      await conn.handshake();
    } finally {
      conn.close();
    }
  });
  // 5. Random bytes instead of a ClientHello.
  using noise = await connectRaw(t.port);
  await sendAll(noise, randomBytes(16 * 1024, 42));
  // 6. Half a ClientHello (first bytes of a TLS record), then silence.
  using half = await connectRaw(t.port);
  await sendAll(half, new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));

  // The established client is still answered, in order …
  assert.equal(
    await good.request("r1 GET keep.me"),
    "r1 OK planned 1775044800000000000",
  );
  // … and a new client completes its handshake and is answered too.
  using fresh = await connectTls(t.port, t.cert);
  assert.equal(
    await fresh.request("r2 GET keep.me"),
    "r2 OK planned 1775044800000000000",
  );
  const noiseEnd = await readToClose(noise);
  assert.doesNotMatch(noiseEnd.text, /OK|ERROR/);
});

Deno.test("many stalled handshakes in parallel do not delay TLS clients", async () => {
  await using t = await tlsDaemon();
  const stalled: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 50; i++) {
      const conn = await connectRaw(t.port);
      await sendAll(conn, new Uint8Array([0x16, 0x03, 0x01, 0x00, 0x40]));
      stalled.push(conn);
    }
    const started = performance.now();
    using client = await connectTls(t.port, t.cert);
    assert.equal(await client.request("r1 GET none"), "r1 ERROR");
    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs < 2000, `answered after ${elapsedMs} ms`);
  } finally {
    for (const conn of stalled) conn.close();
  }
});

Deno.test("a TLS client that half-closes still gets every answer", async () => {
  await using t = await tlsDaemon();
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: t.port,
    caCerts: [t.cert.certPem],
  });
  using client = TestClient.wrap(conn);
  await client.send(`r1 SET a.b ${T}\nr2 GET a.b\n`);
  await conn.closeWrite();
  assert.equal(
    (await readToClose(conn)).text,
    "r1 OK\nr2 OK planned 1775044800000000000\n",
  );
});

Deno.test("a TLS client that never reads is throttled by TCP; others are answered", async () => {
  await using t = await tlsDaemon();
  // Long request ids: the answers are about as large as the requests.
  const id = "r".repeat(100);
  let text = "";
  for (let i = 0; text.length < 1024 * 1024; i++) {
    text += `${id}${i} SET big.${i % 64} 4000000000000000000\n`;
  }
  const chunk = new TextEncoder().encode(text);
  const total = 50 * chunk.length;
  const hog = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: t.port,
    caCerts: [t.cert.certPem],
  });
  let written = 0;
  const writing = (async () => {
    try {
      for (; written < total; written += chunk.length) {
        for (let w = 0; w < chunk.length;) {
          w += await hog.write(chunk.subarray(w));
        }
      }
    } catch {
      // closed below while blocked
    }
  })();
  let last = -1;
  while (written !== last && written < total) {
    last = written;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.ok(written < total, "the daemon read 50 MB nobody read answers to");
  using other = await connectTls(t.port, t.cert);
  assert.equal(
    await other.request("g GET big.1"),
    "g OK planned 4000000000000000000",
  );
  hog.close();
  await writing;
});

Deno.test("TLS 1.2 and TLS 1.3 clients are both served (openssl s_client)", async () => {
  await using t = await tlsDaemon();
  for (const version of ["-tls1_2", "-tls1_3"]) {
    const child = new Deno.Command("openssl", {
      args: [
        "s_client",
        version,
        "-connect",
        `127.0.0.1:${t.port}`,
        "-CAfile",
        t.cert.certPath,
        "-verify_return_error",
        "-quiet",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("r1 GET none\n"));
    let out = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      out += decoder.decode(chunk, { stream: true });
      if (out.includes("\n")) break; // releases the reader
    }
    await writer.close();
    child.kill();
    await child.status;
    assert.equal(out, "r1 ERROR\n", version);
  }
});
