import assert from "node:assert/strict";
import type { Command } from "../../../src/domain/command.ts";
import type { Result } from "../../../src/domain/result.ts";
import type { ConnectionContext } from "../../../src/server/connection.ts";
import {
  TcpServer,
  type TcpServerOptions,
} from "../../../src/server/tcp_server.ts";
import { TestClient, waitFor } from "../../_helpers/client.ts";
import { tempDir } from "../../_helpers/fs.ts";
import { makeCert } from "../../_helpers/tls.ts";

/**
 * A command layer that answers GET with a planned job at time 1 and STAT
 * with the server's connection count, and records what it was asked.
 */
class FakeContext implements ConnectionContext {
  readonly commands: Command[] = [];
  server: TcpServer | undefined;

  execute(command: Command): Result {
    this.commands.push(command);
    switch (command.kind) {
      case "get":
        return {
          kind: "job",
          job: { id: command.jobId, executionNs: 1n, status: "planned" },
        };
      case "stat":
        return {
          kind: "stats",
          entries: [["connections", this.server?.connections ?? -1]],
        };
      default:
        return { kind: "invalid", reason: "not in this test" };
    }
  }
}

function listen(
  options: Partial<TcpServerOptions> = {},
): { server: TcpServer; context: FakeContext } {
  const context = new FakeContext();
  const server = TcpServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    maxConnections: 16,
    ...options,
  }, context);
  context.server = server;
  return { server, context };
}

async function connectionsToBe(server: TcpServer, count: number) {
  await waitFor(() => server.connections === count ? true : undefined, {
    timeoutMs: 5000,
    intervalMs: 2,
    what: `${count} open connections (now ${server.connections})`,
  });
}

Deno.test("TcpServer.listen() binds port 0 to a free port and reports it in addr", async () => {
  const { server } = listen();
  try {
    assert.equal(server.addr.transport, "tcp");
    assert.equal(server.addr.hostname, "127.0.0.1");
    assert.ok(server.addr.port > 0);
    using client = await TestClient.connect(server.addr.port);
    assert.equal(await client.request("r1 GET a"), "r1 OK planned 1");
  } finally {
    await server.close();
  }
});

Deno.test("TcpServer serves each accepted connection with the command layer", async () => {
  await using s = listenDisposable();
  const { server, context } = s;
  using a = await TestClient.connect(server.addr.port);
  using b = await TestClient.connect(server.addr.port);
  assert.equal(await a.request("a1 GET x"), "a1 OK planned 1");
  assert.equal(await b.request("b1 GET y"), "b1 OK planned 1");
  await a.send("a2 GET z\na3 NOPE\n\na4 GET w\n");
  assert.equal(await a.readLine(), "a2 OK planned 1");
  assert.equal(await a.readLine(), "a3 ERROR");
  assert.equal(await a.readLine(), "a4 OK planned 1");
  assert.deepEqual(
    context.commands.map((c) => c.kind === "get" ? c.jobId : c.kind),
    ["x", "y", "z", "w"],
  );
});

Deno.test("TcpServer connections counts open connections, the asking one included", async () => {
  await using s = listenDisposable();
  const { server } = s;
  assert.equal(server.connections, 0);
  const a = await TestClient.connect(server.addr.port);
  assert.equal(await a.request("r1 STAT"), "r1 connections 1\nr1 OK");
  const b = await TestClient.connect(server.addr.port);
  assert.equal(await b.request("r2 STAT"), "r2 connections 2\nr2 OK");
  assert.equal(server.connections, 2);
  a[Symbol.dispose]();
  await connectionsToBe(server, 1);
  assert.equal(await b.request("r3 STAT"), "r3 connections 1\nr3 OK");
  // A client that half-closes is answered, then its connection ends.
  await b.send("r4 STAT\n");
  await b.closeWrite();
  assert.equal(await b.readAll(), "r4 connections 1\nr4 OK\n");
  await connectionsToBe(server, 0);
  b[Symbol.dispose]();
});

Deno.test("TcpServer closes a connection beyond maxConnections at once and keeps serving the others", async () => {
  await using s = listenDisposable({ maxConnections: 2 });
  const { server, context } = s;
  using a = await TestClient.connect(server.addr.port);
  using b = await TestClient.connect(server.addr.port);
  assert.equal(await a.request("a1 GET x"), "a1 OK planned 1");
  assert.equal(await b.request("b1 GET x"), "b1 OK planned 1");
  {
    using extra = await TestClient.connect(server.addr.port);
    assert.equal(await extra.readAll(), "", "closed without a word");
  }
  assert.equal(server.connections, 2);
  assert.equal(await a.request("a2 STAT"), "a2 connections 2\na2 OK");
  assert.equal(await b.request("b2 GET y"), "b2 OK planned 1");
  assert.equal(context.commands.length, 4, "nothing came from the extra one");
  // A freed slot takes a new client.
  a[Symbol.dispose]();
  await connectionsToBe(server, 1);
  using c = await TestClient.connect(server.addr.port);
  assert.equal(await c.request("c1 STAT"), "c1 connections 2\nc1 OK");
});

Deno.test("TcpServer close() stops accepting and closes open connections", async () => {
  const { server } = listen();
  const port = server.addr.port;
  using a = await TestClient.connect(port);
  using b = await TestClient.connect(port);
  assert.equal(await a.request("a1 GET x"), "a1 OK planned 1");
  assert.equal(await b.request("b1 GET x"), "b1 OK planned 1");
  await server.close();
  assert.equal(server.connections, 0);
  assert.equal(await a.readAll(), "");
  assert.equal(await b.readAll(), "");
  await assert.rejects(
    () => Deno.connect({ hostname: "127.0.0.1", port }),
    Deno.errors.ConnectionRefused,
  );
  await server.close(); // a second close is harmless
});

Deno.test("TcpServer.listen() throws when the port is taken", () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  assert.throws(
    () => listen({ port: taken.addr.port }),
    Deno.errors.AddrInUse,
  );
});

Deno.test("TcpServer.listen() throws for an unusable certificate before binding", () => {
  assert.throws(() => listen({ tls: { cert: "not a cert", key: "no key" } }));
});

Deno.test("TcpServer speaks TLS only when given a certificate", async () => {
  await using dir = await tempDir("ztick-tcp-tls-");
  const cert = await makeCert(dir.path);
  const tls = {
    cert: cert.certPem,
    key: await Deno.readTextFile(cert.keyPath),
  };
  await using s = listenDisposable({ tls });
  const { server, context } = s;
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: server.addr.port,
    caCerts: [cert.certPem],
  });
  using client = TestClient.wrap(conn);
  assert.equal(await client.request("r1 GET x"), "r1 OK planned 1");
  assert.equal(await client.request("r2 STAT"), "r2 connections 1\nr2 OK");
  // Plain text on the TLS port is no request.
  {
    using plain = await TestClient.connect(server.addr.port);
    await plain.send("p1 GET y\n");
    assert.equal(await plain.readAll(), "");
  }
  assert.equal(context.commands.length, 2);
});

/** {@link listen}, closed by `await using`. */
function listenDisposable(options: Partial<TcpServerOptions> = {}) {
  const { server, context } = listen(options);
  return {
    server,
    context,
    [Symbol.asyncDispose]: () => server.close(),
  };
}
