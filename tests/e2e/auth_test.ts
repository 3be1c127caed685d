/**
 * Authentication over real TCP (and TLS for the deadline): every AUTH row of
 * protocol.md §10 and the §9 example byte for byte (the §8 namespace table is
 * in auth_namespaces_test.ts).
 */
import assert from "node:assert/strict";
import { converse, TestClient } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import {
  ADMIN_SECRET,
  connectRaw,
  DEPLOY_SECRET,
  readToClose,
  sendAll,
  SPACED_SECRET,
  talkUntilClose,
} from "./_security.ts";
import { as, authDaemon, T, T_NS } from "./_auth.ts";

// ---------------------------------------------------------------- §9 / §10

Deno.test("the §9 example conversation is answered byte for byte", async () => {
  await using a = await authDaemon();
  // Someone else's jobs exist, so QUERY has something to hide.
  assert.equal(
    await as(a.port, ADMIN_SECRET, `a SET backup.x ${T}`, `b SET deployX ${T}`),
    "OK\na OK\nb OK\n",
  );
  assert.equal(
    await converse(
      a.port,
      `AUTH ${DEPLOY_SECRET}\n` +
        `r1 SET deploy.release.v1 ${T}\n` +
        `r2 SET backup.daily ${T}\n` +
        "r3 QUERY\n",
    ),
    "OK\n" +
      "r1 OK\n" +
      "r2 ERROR\n" +
      `r3 deploy.release.v1 planned ${T_NS}\n` +
      "r3 OK\n",
  );
});

Deno.test("a command before AUTH gets ERROR, then close; later lines are discarded", async () => {
  await using a = await authDaemon();
  const { text } = await talkUntilClose(
    a.port,
    `r1 STAT\nAUTH ${DEPLOY_SECRET}\nr2 GET x\n`,
  );
  assert.equal(text, "ERROR\n");
  // The discarded AUTH did not authenticate anything, and r2 was not run.
  assert.equal(
    (await talkUntilClose(a.port, `r1 SET deploy.x ${T}\n`)).text,
    "ERROR\n",
  );
});

Deno.test("malformed and over-long lines before AUTH get ERROR, then close", async () => {
  await using a = await authDaemon();
  const bad: [string, string | Uint8Array][] = [
    ["unclosed quote", `"abc\nAUTH ${DEPLOY_SECRET}\n`],
    ["unreadable id", `"" GET x\n`],
    ["control char", "r1\x01 GET x\n"],
    ["id alone", "r1\n"],
    ["lowercase auth", `auth ${DEPLOY_SECRET}\n`],
    ["over-long", `r1 GET ${"x".repeat(5000)}\nAUTH ${DEPLOY_SECRET}\n`],
    ["over-long AUTH", `AUTH ${"x".repeat(5000)}\n`],
    [
      "invalid UTF-8",
      new Uint8Array([0x72, 0x31, 0x20, 0xff, 0xfe, 0x0a]),
    ],
  ];
  await Promise.all(bad.map(async ([what, input]) => {
    const { text } = await talkUntilClose(a.port, input);
    assert.equal(text, "ERROR\n", what);
  }));
});

Deno.test("blank lines before AUTH are ignored", async () => {
  await using a = await authDaemon();
  assert.equal(
    await converse(a.port, `\n  \t \r\nAUTH ${DEPLOY_SECRET}\r\nr1 GET no\n`),
    "OK\nr1 ERROR\n",
  );
});

Deno.test("a wrong secret, AUTH without secret or with an empty one: ERROR, then close", async () => {
  await using a = await authDaemon();
  const inputs = [
    "AUTH sk_wrong\nr1 STAT\n",
    "AUTH\nr1 STAT\n",
    "AUTH   \nr1 STAT\n",
    'AUTH ""\nr1 STAT\n',
    `AUTH ${DEPLOY_SECRET.slice(0, -1)}\n`,
    `AUTH ${DEPLOY_SECRET}x\n`,
    `AUTH "${DEPLOY_SECRET}\n`, // unclosed quote
    "AUTH open sesame, said Ali\n", // spaces need quotes
    "AUTH deploy.\n", // a namespace is not a secret
  ];
  await Promise.all(inputs.map(async (input) => {
    const { text } = await talkUntilClose(a.port, input);
    assert.equal(text, "ERROR\n", JSON.stringify(input));
  }));
});

Deno.test("a quoted secret with spaces authenticates; surplus tokens are ignored", async () => {
  await using a = await authDaemon();
  assert.equal(
    await converse(
      a.port,
      `AUTH "${SPACED_SECRET}"\nr1 SET spaced.a ${T}\nr2 SET deploy.a ${T}\n`,
    ),
    "OK\nr1 OK\nr2 ERROR\n",
  );
  assert.equal(
    await converse(
      a.port,
      `AUTH ${DEPLOY_SECRET} surplus "tokens here"\nr1 SET deploy.a ${T}\n`,
    ),
    "OK\nr1 OK\n",
  );
  // Escapes inside quotes resolve before the comparison.
  assert.equal(
    await converse(a.port, `AUTH "sk_deploy\\_7f3a91"\nr1 GET deploy.a\n`),
    `OK\nr1 OK planned ${T_NS}\n`,
  );
});

Deno.test("a second AUTH is refused and the connection keeps its identity", async () => {
  await using a = await authDaemon();
  assert.equal(
    await converse(
      a.port,
      `AUTH ${DEPLOY_SECRET}\n` +
        `AUTH ${ADMIN_SECRET}\n` +
        `r1 SET backup.x ${T}\n` +
        `AUTH ${DEPLOY_SECRET}\n` +
        "AUTH\n" +
        `r2 SET deploy.x ${T}\n`,
    ),
    "OK\nERROR\nr1 ERROR\nERROR\nERROR\nr2 OK\n",
  );
});

Deno.test("with auth off, AUTH answers OK and changes nothing", async () => {
  await using d = await startTestDaemon({ persistence: "memory" });
  assert.equal(
    await converse(
      d.port,
      `AUTH whatever\nAUTH\nr1 SET any.job ${T}\nAUTH "x y"\nr2 GET any.job\n`,
    ),
    `OK\nOK\nr1 OK\nOK\nr2 OK planned ${T_NS}\n`,
  );
  const stat = await converse(d.port, "s STAT\n");
  assert.match(stat, /^s auth_enabled 0$/m);
});

Deno.test("STAT needs AUTH, ignores namespaces and shows auth_enabled 1", async () => {
  await using a = await authDaemon();
  assert.equal((await talkUntilClose(a.port, "s STAT\n")).text, "ERROR\n");
  await as(a.port, ADMIN_SECRET, `a SET backup.x ${T}`, `b SET other.y ${T}`);
  const stat = await as(a.port, DEPLOY_SECRET, "s STAT");
  assert.ok(stat.startsWith("OK\ns uptime_ns "), stat);
  assert.ok(stat.endsWith("\ns OK\n"), stat);
  assert.match(stat, /^s jobs_total 2$/m); // outside the deploy. namespace
  assert.match(stat, /^s auth_enabled 1$/m);
  assert.match(stat, /^s tls_enabled 0$/m);
});

Deno.test("no AUTH within 5 s closes without a word, TLS handshake included", async () => {
  await using plain = await authDaemon();
  await using tls = await authDaemon({ tls: true });
  const cert = { certPem: await Deno.readTextFile(`${tls.dir}/cert.pem`) };
  // A client that authenticated in time stays open past the deadline.
  using early = TestClient.wrap(
    await Deno.connectTls({
      hostname: "127.0.0.1",
      port: tls.port,
      caCerts: [cert.certPem],
    }),
  );
  assert.equal(await early.request(`AUTH ${DEPLOY_SECRET}`), "OK");

  /** Connects, runs `act`, and reports what arrived before the close. */
  async function timed(
    port: number,
    act: (conn: Deno.TcpConn) => Promise<Deno.Conn>,
  ) {
    const tcp = await connectRaw(port);
    const started = performance.now();
    const conn = await act(tcp);
    // If the daemon never closes, give up at 7 s so the test fails, not hangs.
    let gaveUp = false;
    const guard = setTimeout(() => {
      gaveUp = true;
      conn.close();
    }, 7000);
    try {
      return await readToClose(conn, started);
    } catch (error) {
      if (gaveUp) return { text: "", afterMs: Infinity }; // never closed
      throw error;
    } finally {
      clearTimeout(guard);
      try {
        conn.close();
      } catch {
        // closed by the guard
      }
    }
  }
  const results = await Promise.all([
    // Silent client.
    timed(plain.port, (conn) => Promise.resolve(conn)),
    // Half an AUTH line, never finished.
    timed(plain.port, async (conn) => {
      await sendAll(conn, `AUTH ${DEPLOY_SECRET}`);
      return conn;
    }),
    // Keeps feeding blank lines: they do not extend the deadline.
    timed(plain.port, async (conn) => {
      const feeding = (async () => {
        for (let i = 0; i < 8; i++) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          await sendAll(conn, "\n");
        }
      })();
      await feeding;
      return conn;
    }),
    // TLS port, no handshake at all.
    timed(tls.port, (conn) => Promise.resolve(conn)),
    // Handshake started 3 s after connect, then silence: still closed at 5 s.
    timed(tls.port, async (tcp) => {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const conn = await Deno.startTls(tcp, {
        hostname: "127.0.0.1",
        caCerts: [cert.certPem],
      });
      await conn.handshake();
      return conn;
    }),
  ]);
  for (const [i, { text, afterMs }] of results.entries()) {
    assert.equal(text, "", `client ${i} was sent something`);
    assert.ok(
      afterMs >= 4900 && afterMs < 5900,
      `client ${i} closed after ${afterMs} ms`,
    );
  }
  assert.equal(await early.request(`r1 SET deploy.a ${T}`), "r1 OK");
});
