/**
 * The client against a daemon with authentication and TLS, through the
 * real executable: AUTH from a token file or the environment, a refused
 * AUTH, a missing secret, TLS with and without a trusted CA, a TLS port
 * reached in plain text (spec: client.md §1, §3).
 */
import assert from "node:assert/strict";
import { writeFile } from "../_helpers/fs.ts";
import {
  ADMIN_SECRET,
  AUTH_TOML,
  DEPLOY_SECRET,
  makeCert,
  SPACED_SECRET,
} from "./_security.ts";
import { type ClientDaemon, startDaemon } from "./_client.ts";

async function authDaemon(
  tls = false,
): Promise<ClientDaemon & { cert?: string }> {
  const dir = await Deno.makeTempDir({ prefix: "ztick-client-auth-" });
  const authFile = await writeFile(`${dir}/auth.toml`, AUTH_TOML);
  let extra = `auth_file = "${authFile}"\n`;
  let cert: string | undefined;
  if (tls) {
    const made = await makeCert(dir);
    extra += `tls_cert = "${made.certPath}"\ntls_key = "${made.keyPath}"\n`;
    cert = made.certPath;
  }
  const daemon = await startDaemon(extra);
  return {
    ...daemon,
    ...(cert ? { cert } : {}),
    async [Symbol.asyncDispose]() {
      await daemon[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("AUTH with the secret of --token-file, $ZTICK_TOKEN_FILE or $ZTICK_TOKEN", async () => {
  await using d = await authDaemon();
  const tokens = await Deno.makeTempDir({ prefix: "ztick-tokens-" });
  try {
    const admin = await writeFile(`${tokens}/admin`, `${ADMIN_SECRET}\n`);
    const spaced = await writeFile(
      `${tokens}/spaced`,
      `${SPACED_SECRET}\r\nignored\n`,
    );
    const deploy = await writeFile(`${tokens}/deploy`, DEPLOY_SECRET);
    assert.deepEqual(
      await d.run(["set", "a.1", "+1h", "--token-file", admin]),
      {
        code: 0,
        stdout: "",
        stderr: "",
      },
    );
    assert.equal(
      (await d.run(["set", "spaced.1", "+1h"], { ZTICK_TOKEN_FILE: spaced }))
        .code,
      0,
    );
    assert.equal(
      (await d.run(["set", "deploy.1", "+1h"], { ZTICK_TOKEN: DEPLOY_SECRET }))
        .code,
      0,
    );
    // --token-file wins over $ZTICK_TOKEN_FILE, which wins over $ZTICK_TOKEN.
    assert.equal(
      (await d.run(["get", "a.1", "--token-file", admin], {
        ZTICK_TOKEN_FILE: deploy,
      })).code,
      0,
    );
    assert.equal(
      (await d.run(["get", "a.1"], {
        ZTICK_TOKEN_FILE: admin,
        ZTICK_TOKEN: "x",
      })).code,
      0,
    );
    // A namespace forbids: that is the daemon's ERROR, exit 1.
    assert.deepEqual(
      await d.run(["get", "a.1"], { ZTICK_TOKEN: DEPLOY_SECRET }),
      {
        code: 1,
        stdout: "",
        stderr: "error: get failed\n",
      },
    );
  } finally {
    await Deno.remove(tokens, { recursive: true });
  }
});

Deno.test("a refused AUTH and a missing secret exit 3 with the spec's messages", async () => {
  await using d = await authDaemon();
  assert.deepEqual(await d.run(["stat"], { ZTICK_TOKEN: "wrong secret" }), {
    code: 3,
    stdout: "",
    stderr: `error: authentication refused by ${d.addr}\n`,
  });
  assert.deepEqual(await d.run(["stat"]), {
    code: 3,
    stdout: "",
    stderr: `error: ${d.addr} requires authentication\n`,
  });
  await d.daemon.waitForLog(/authentication failed/);
});

Deno.test("a token file that is missing or empty exits 2 before connecting", async () => {
  await using d = await authDaemon();
  const dir = await Deno.makeTempDir({ prefix: "ztick-tokens-" });
  try {
    const empty = await writeFile(`${dir}/empty`, "\nsecret on line 2\n");
    const cases: [Record<string, string>, string[], RegExp][] = [
      [
        {},
        ["--token-file", `${dir}/missing`],
        /^error: cannot read token file .*\/missing: No such file/,
      ],
      [
        { ZTICK_TOKEN_FILE: `${dir}/missing` },
        [],
        /^error: cannot read token file/,
      ],
      [{}, ["--token-file", empty], /^error: token file .*\/empty is empty$/m],
    ];
    for (const [env, args, pattern] of cases) {
      const { code, stderr } = await d.run(["stat", ...args], env);
      assert.equal(code, 2, stderr);
      assert.match(stderr, pattern);
      assert.match(stderr.split("\n")[1]!, /^usage: ztick stat/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TLS: --tls --ca PATH talks to a TLS port, with AUTH; an untrusted certificate exits 3", async () => {
  await using d = await authDaemon(true);
  const env = { ZTICK_TOKEN: ADMIN_SECRET };
  assert.deepEqual(
    await d.run(["set", "t.1", "@4070908800", "--tls", "--ca", d.cert!], env),
    {
      code: 0,
      stdout: "",
      stderr: "",
    },
  );
  assert.deepEqual(
    await d.run(["get", "t.1", "--tls", "--ca", d.cert!, "--json"], env),
    {
      code: 0,
      stdout:
        '{"id":"t.1","status":"planned","execution":4070908800000000000}\n',
      stderr: "",
    },
  );
  const refused = await d.run(["get", "t.1", "--tls", "--ca", d.cert!], {
    ZTICK_TOKEN: "nope",
  });
  assert.deepEqual(refused, {
    code: 3,
    stdout: "",
    stderr: `error: authentication refused by ${d.addr}\n`,
  });
  const untrusted = await d.run(["get", "t.1", "--tls"], env);
  assert.equal(untrusted.code, 3);
  assert.match(
    untrusted.stderr,
    new RegExp(`^error: TLS with ${d.addr} failed: .*certificate`),
  );
});

Deno.test("a TLS port reached without --tls exits 3 and says so, instead of silence", async () => {
  await using d = await authDaemon(true);
  const { code, stdout, stderr } = await d.run(["stat"], {
    ZTICK_TOKEN: ADMIN_SECRET,
  });
  assert.equal(code, 3);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    `error: connection closed by ${d.addr} before the answer (a TLS port? then use --tls)\n`,
  );
});

Deno.test("--tls against a plain port exits 3 at the timeout, naming the handshake", async () => {
  await using d = await startDaemon();
  const started = performance.now();
  const { code, stderr } = await d.run(["stat", "--tls", "--timeout", "700ms"]);
  assert.equal(code, 3);
  assert.equal(
    stderr,
    `error: TLS handshake with ${d.addr} timed out after 700ms (not a TLS port?)\n`,
  );
  assert.ok(performance.now() - started < 10_000);
});
