/**
 * Authentication and namespaces over real TCP (and TLS for the deadline):
 * every AUTH row of protocol.md §10, the §9 example byte for byte and every
 * cell of the §8 table, including prefix escapes.
 */
import assert from "node:assert/strict";
import { converse, TestClient } from "../_helpers/client.ts";
import { startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { ManualClock } from "../_helpers/doubles.ts";
import {
  ADMIN_SECRET,
  AUTH_TOML,
  connectRaw,
  DEPLOY_SECRET,
  makeCert,
  readToClose,
  sendAll,
  SPACED_SECRET,
  talkUntilClose,
} from "./_security.ts";
import { writeFile } from "../_helpers/fs.ts";

// 2026-01-01 00:00:00 UTC: the spec's examples (April 2026) lie ahead.
const BEFORE_EXAMPLES = 1_767_225_600_000_000_000n;
const T = "2026-04-01 12:00:00";
const T_NS = "1775044800000000000";

interface AuthDaemon extends AsyncDisposable {
  readonly d: TestDaemon;
  readonly port: number;
  readonly dir: string;
}

async function authDaemon(
  options: { tls?: boolean } = {},
): Promise<AuthDaemon> {
  const dir = await Deno.makeTempDir({ prefix: "ztick-auth-" });
  const authFile = await writeFile(`${dir}/auth.toml`, AUTH_TOML);
  const cert = options.tls ? await makeCert(dir) : undefined;
  const d = await startTestDaemon({
    persistence: "memory",
    authFile,
    clock: new ManualClock(BEFORE_EXAMPLES),
    ...(cert ? { tls: { cert: cert.certPath, key: cert.keyPath } } : {}),
  });
  return {
    d,
    port: d.port,
    dir,
    async [Symbol.asyncDispose]() {
      await d[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** One connection: AUTH with `secret`, then the lines; all answers to EOF. */
function as(port: number, secret: string, ...lines: string[]) {
  return converse(
    port,
    [`AUTH ${secret}`, ...lines].map((line) => `${line}\n`).join(""),
  );
}

function sorted(text: string): string[] {
  return text.split("\n").filter((line) => line !== "").sort();
}

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

// ---------------------------------------------------------------- §8 table

/** Sets the scene as the admin: jobs and rules inside and outside `deploy.`. */
async function scene(port: number): Promise<void> {
  const answer = await as(
    port,
    ADMIN_SECRET,
    `a SET deploy.a ${T}`,
    `b SET deployX.b ${T}`,
    `c SET backup.c ${T}`,
    `d SET deploy ${T}`,
    "e RULE SET deploy.r deploy. shell true",
    "f RULE SET deployX.r deployX. shell true",
    'g RULE SET other.r "" shell true',
    'h RULE SET deploy.wide "" shell true', // id inside, pattern everything
  );
  assert.equal(
    answer,
    "OK\na OK\nb OK\nc OK\nd OK\ne OK\nf OK\ng OK\nh OK\n",
  );
}

/** The admin's view of every job and rule, sorted. */
async function everything(port: number): Promise<string[]> {
  return sorted(await as(port, ADMIN_SECRET, "q QUERY", "l LISTRULES"));
}

Deno.test("§8 SET, GET, REMOVE: job id inside, else ERROR (no prefix escape)", async () => {
  await using a = await authDaemon();
  await scene(a.port);
  const before = await everything(a.port);
  assert.equal(
    await as(
      a.port,
      DEPLOY_SECRET,
      `s1 SET deployX.new ${T}`,
      `s2 SET deploy ${T}`, // the namespace without its dot is outside
      `s3 SET backup.new ${T}`,
      `s4 SET Deploy.new ${T}`,
      `s5 SET "" ${T}`,
      "g1 GET deployX.b",
      "g2 GET backup.c",
      "g3 GET deploy",
      "g4 GET deploy.a",
      "r1 REMOVE deployX.b",
      "r2 REMOVE backup.c",
      "r3 REMOVE deploy",
    ),
    "OK\n" +
      "s1 ERROR\ns2 ERROR\ns3 ERROR\ns4 ERROR\ns5 ERROR\n" +
      `g1 ERROR\ng2 ERROR\ng3 ERROR\ng4 OK planned ${T_NS}\n` +
      "r1 ERROR\nr2 ERROR\nr3 ERROR\n",
  );
  assert.deepEqual(await everything(a.port), before);
  assert.equal(
    await as(
      a.port,
      DEPLOY_SECRET,
      `s1 SET deploy.new ${T}`,
      `s2 SET deploy.a 1775044800000000001`,
      "r1 REMOVE deploy.new",
      "g1 GET deploy.new",
      "g2 GET deploy.a",
    ),
    "OK\ns1 OK\ns2 OK\nr1 OK\ng1 ERROR\ng2 OK planned 1775044800000000001\n",
  );
});

Deno.test("§8 RULE SET: rule id and pattern both inside, else ERROR", async () => {
  await using a = await authDaemon();
  await scene(a.port);
  const before = await everything(a.port);
  assert.equal(
    await as(
      a.port,
      DEPLOY_SECRET,
      "r1 RULE SET deploy.n backup. shell true", // pattern outside
      'r2 RULE SET deploy.n "" shell true', // empty pattern: everything
      "r3 RULE SET deploy.n deploy shell true", // pattern escapes the dot
      "r4 RULE SET deploy.n deployX. shell true",
      "r5 RULE SET deployX.n deploy.x shell true", // id outside
      "r6 RULE SET backup.n deploy.x shell true",
      "r7 RULE SET deployX.r deployX. shell false", // overwrite outside
      "r8 RULE SET other.r deploy. shell false",
      'r9 RULE SET deploy.wide "" shell false', // own id, pattern outside
    ),
    "OK\n" +
      "r1 ERROR\nr2 ERROR\nr3 ERROR\nr4 ERROR\nr5 ERROR\nr6 ERROR\n" +
      "r7 ERROR\nr8 ERROR\nr9 ERROR\n",
  );
  assert.deepEqual(await everything(a.port), before);
  assert.equal(
    await as(
      a.port,
      DEPLOY_SECRET,
      "r1 RULE SET deploy.n deploy.x shell true",
      "r2 RULE SET deploy.r deploy. shell false", // replace own rule
      "r3 RULE SET deploy.m deploy. http POST https://example.org/",
    ),
    "OK\nr1 OK\nr2 OK\nr3 OK\n",
  );
});

Deno.test("§8 REMOVERULE: rule id inside, else ERROR", async () => {
  await using a = await authDaemon();
  await scene(a.port);
  assert.equal(
    await as(
      a.port,
      DEPLOY_SECRET,
      "r1 REMOVERULE deployX.r",
      "r2 REMOVERULE other.r",
      "r3 REMOVERULE deploy.r",
      "r4 REMOVERULE deploy.r",
      "r5 REMOVERULE deploy.wide", // id inside though its pattern is not
    ),
    "OK\nr1 ERROR\nr2 ERROR\nr3 OK\nr4 ERROR\nr5 OK\n",
  );
  assert.deepEqual(sorted(await as(a.port, ADMIN_SECRET, "l LISTRULES")), [
    "OK",
    "l OK",
    "l deployX.r deployX. shell true",
    "l other.r  shell true",
  ]);
});

Deno.test("§8 QUERY: any prefix accepted, only jobs inside listed", async () => {
  await using a = await authDaemon();
  await scene(a.port);
  const inside = `deploy.a planned ${T_NS}`;
  const cases: [string, string[]][] = [
    ["QUERY", [inside]],
    ['QUERY ""', [inside]],
    ["QUERY d", [inside]],
    ["QUERY deploy", [inside]],
    ["QUERY deploy.", [inside]],
    ["QUERY deploy.a", [inside]],
    ["QUERY deployX.", []],
    ["QUERY backup.", []],
    ["QUERY deploy.zzz", []],
  ];
  for (const [query, lines] of cases) {
    const answer = await as(a.port, DEPLOY_SECRET, `q ${query}`);
    assert.equal(
      answer,
      `OK\n${lines.map((line) => `q ${line}\n`).join("")}q OK\n`,
      query,
    );
  }
});

Deno.test("§8 LISTRULES: only rules whose id is inside", async () => {
  await using a = await authDaemon();
  await scene(a.port);
  const answer = await as(a.port, DEPLOY_SECRET, "l LISTRULES");
  assert.ok(answer.endsWith("l OK\n"));
  assert.deepEqual(sorted(answer), [
    "OK",
    "l OK",
    "l deploy.r deploy. shell true",
    "l deploy.wide  shell true",
  ]);
});

Deno.test("§8 STAT is not restricted; a * token touches everything", async () => {
  await using a = await authDaemon();
  await scene(a.port);
  const stat = await as(a.port, DEPLOY_SECRET, "s STAT");
  assert.match(stat, /^s jobs_total 4$/m);
  assert.match(stat, /^s rules_total 4$/m);
  assert.equal(
    await as(
      a.port,
      ADMIN_SECRET,
      `s1 SET anything.at.all ${T}`,
      "g1 GET deployX.b",
      'r1 RULE SET x.r "" shell true',
      "r2 REMOVERULE deployX.r",
      "r3 REMOVE backup.c",
      `s2 SET * ${T}`,
    ),
    `OK\ns1 OK\ng1 OK planned ${T_NS}\nr1 OK\nr2 OK\nr3 OK\ns2 OK\n`,
  );
  const all = await as(a.port, ADMIN_SECRET, "q QUERY");
  assert.equal(sorted(all).length, 2 + 5); // OK, q OK and five jobs
});
