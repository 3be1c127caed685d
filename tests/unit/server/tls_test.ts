import assert from "node:assert/strict";
import type tls from "node:tls";
import { createTlsContext, TlsServerConn } from "../../../src/server/tls.ts";
import { tempDir } from "../../_helpers/fs.ts";
import { makeCert, type TestCert } from "../../_helpers/tls.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

interface Pem {
  readonly cert: string;
  readonly key: string;
}

/** Two certificates made once for the whole file (openssl takes a moment). */
async function makeCerts(): Promise<[TestCert & Pem, TestCert & Pem]> {
  await using dir = await tempDir("ztick-tls-unit-");
  const made = [];
  for (const name of ["one", "two"]) {
    await Deno.mkdir(`${dir.path}/${name}`);
    const cert = await makeCert(`${dir.path}/${name}`);
    made.push({
      ...cert,
      cert: cert.certPem,
      key: await Deno.readTextFile(cert.keyPath),
    });
  }
  return made as [TestCert & Pem, TestCert & Pem];
}
const [ONE, TWO] = await makeCerts();

/** A loopback listener and a TlsServerConn over the connection it accepts. */
async function accepted(
  connect: (port: number) => Promise<Deno.Conn>,
  context: tls.SecureContext = createTlsContext(ONE),
): Promise<{ client: Deno.Conn; server: TlsServerConn }> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, tcp] = await Promise.all([
    connect(listener.addr.port),
    listener.accept(),
  ]);
  return { client, server: new TlsServerConn(tcp, context) };
}

function connectTls(port: number): Promise<Deno.TlsConn> {
  return Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [ONE.certPem],
  });
}

function connectPlain(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/** Reads exactly `length` bytes, or fewer at EOF. */
async function readBytes(
  conn: { read(buffer: Uint8Array): Promise<number | null> },
  length: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = await conn.read(out.subarray(got));
    if (n === null) break;
    got += n;
  }
  return out.subarray(0, got);
}

async function writeBytes(
  conn: { write(bytes: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    done += await conn.write(bytes.subarray(done));
  }
}

/** Reads until EOF; a reset or an abrupt TLS end counts as EOF. */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(4096);
  let text = "";
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch (error) {
      if (
        error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.UnexpectedEof ||
        error instanceof Deno.errors.BrokenPipe
      ) {
        return text;
      }
      throw error;
    }
    if (n === null) return text;
    text += DECODER.decode(buffer.subarray(0, n));
  }
}

Deno.test("createTlsContext() accepts a matching certificate and key", () => {
  assert.ok(createTlsContext(ONE));
  assert.ok(createTlsContext(TWO));
});

Deno.test("createTlsContext() rejects a key that does not match the certificate", () => {
  assert.throws(() => createTlsContext({ cert: ONE.cert, key: TWO.key }));
  assert.throws(() => createTlsContext({ cert: TWO.cert, key: ONE.key }));
});

Deno.test("createTlsContext() rejects PEM texts that hold nothing usable", () => {
  for (
    const pem of [
      { cert: "", key: ONE.key },
      { cert: ONE.cert, key: "" },
      { cert: "not a certificate", key: ONE.key },
      { cert: ONE.cert, key: "not a key" },
      { cert: ONE.key, key: ONE.cert },
    ]
  ) {
    assert.throws(() => createTlsContext(pem));
  }
});

Deno.test("TlsServerConn carries bytes both ways under TLS", async () => {
  const { client, server } = await accepted(connectTls);
  assert.deepEqual(server.remoteAddr, client.localAddr as Deno.NetAddr);
  await writeBytes(client, ENCODER.encode("r1 STAT\n"));
  assert.equal(DECODER.decode(await readBytes(server, 8)), "r1 STAT\n");
  await writeBytes(server, ENCODER.encode("r1 OK\n"));
  assert.equal(DECODER.decode(await readBytes(client, 6)), "r1 OK\n");
  client.close();
  assert.equal(await server.read(new Uint8Array(16)), null, "EOF after close");
  server.close();
  await server.closed;
});

Deno.test("TlsServerConn carries a megabyte each way, read in small pieces", async () => {
  const { client, server } = await accepted(connectTls);
  const size = 1024 * 1024;
  const upload = new Uint8Array(size).map((_, i) => (i * 7) % 251);
  const download = new Uint8Array(size).map((_, i) => (i * 13) % 241);
  const [, received] = await Promise.all([
    writeBytes(client, upload),
    (async () => {
      const chunks: Uint8Array[] = [];
      let got = 0;
      const small = new Uint8Array(1000);
      while (got < size) {
        const n = await server.read(small);
        assert.ok(n !== null, "early EOF");
        chunks.push(small.slice(0, n));
        got += n;
      }
      const all = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        all.set(chunk, offset);
        offset += chunk.length;
      }
      return all;
    })(),
  ]);
  assert.deepEqual(received, upload);
  const [, echoed] = await Promise.all([
    writeBytes(server, download),
    readBytes(client, size),
  ]);
  assert.deepEqual(echoed, download);
  server.close();
  await server.closed;
  assert.equal(await readToEnd(client), "", "close_notify, then EOF");
  client.close();
});

Deno.test("TlsServerConn close() after the handshake flushes what was written", async () => {
  const { client, server } = await accepted(connectTls);
  await writeBytes(client, ENCODER.encode("hi"));
  await readBytes(server, 2);
  await writeBytes(server, ENCODER.encode("last words\n"));
  server.close();
  server.close(); // a second close is harmless
  assert.equal(await readToEnd(client), "last words\n");
  await server.closed;
  client.close();
});

Deno.test("TlsServerConn close() before the handshake closes the socket at once", async () => {
  const { client, server } = await accepted(connectPlain);
  const pending = server.read(new Uint8Array(16));
  const started = performance.now();
  server.close();
  await server.closed;
  assert.equal(await pending, null, "a pending read ends");
  assert.equal(await readToEnd(client), "");
  // A TLS goodbye would get up to 1 s of grace; none is given here.
  assert.ok(performance.now() - started < 900, "closed at once");
  client.close();
});

Deno.test("TlsServerConn close() during a started handshake closes the socket at once", async () => {
  const { client, server } = await accepted(connectPlain);
  // Half a ClientHello: the handshake has begun and cannot finish.
  await writeBytes(
    client,
    new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]),
  );
  await new Promise((resolve) => setTimeout(resolve, 10));
  const started = performance.now();
  server.close();
  await server.closed;
  assert.equal(await readToEnd(client), "");
  assert.ok(performance.now() - started < 900, "closed at once");
  client.close();
});

Deno.test("TlsServerConn write() after close() fails with BrokenPipe", async () => {
  const { client, server } = await accepted(connectPlain);
  server.close();
  await server.closed;
  await assert.rejects(
    () => server.write(ENCODER.encode("x")),
    Deno.errors.BrokenPipe,
  );
  client.close();
});

Deno.test("TlsServerConn read() fails when the client speaks plain text", async () => {
  const { client, server } = await accepted(connectPlain);
  await writeBytes(client, ENCODER.encode("r1 STAT\n"));
  await assert.rejects(() => server.read(new Uint8Array(16)));
  server.close();
  await server.closed;
  assert.equal(await readToEnd(client), "", "no plaintext answer");
  client.close();
});

Deno.test("TlsServerConn read() fails when the client does not trust the certificate", async () => {
  const { client, server } = await accepted((port) =>
    Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [TWO.certPem] })
  );
  const clientSide = (client as Deno.TlsConn).handshake();
  const [serverRead, handshake] = await Promise.allSettled([
    server.read(new Uint8Array(16)),
    clientSide,
  ]);
  assert.equal(handshake.status, "rejected");
  // The server sees an alert or an abrupt end, never plaintext.
  assert.ok(
    serverRead.status === "rejected" || serverRead.value === null,
    "no bytes",
  );
  server.close();
  await server.closed;
  client.close();
});
