/**
 * Startup errors and warnings of the auth file and TLS through the real
 * command line (configuration.md §3, §4), secrets kept out of the log, and
 * the logfile's mode.
 */
import assert from "node:assert/strict";
import { TestClient, waitFor } from "../_helpers/client.ts";
import { DaemonProcess, runZtick } from "../_helpers/subprocess.ts";
import {
  ADMIN_SECRET,
  AUTH_TOML,
  connectTls,
  DEPLOY_SECRET,
  makeCert,
  SPACED_SECRET,
  talkUntilClose,
} from "./_security.ts";
import { tempDir, writeFile } from "../_helpers/fs.ts";

/** A config file with log level `level` and these `[controller]` lines. */
function config(controller: string, level = "off"): string {
  return `[log]
level = "${level}"

[controller]
listen = "127.0.0.1:0"
${controller}

[database]
persistence = "memory"
`;
}

/** Runs `ztick -c` on a config whose auth file holds `authToml`. */
async function startWithAuthFile(
  dir: string,
  authToml: string,
): Promise<{ code: number; stderr: string; authPath: string }> {
  const authPath = await writeFile(`${dir}/auth.toml`, authToml);
  const cfg = await writeFile(
    `${dir}/ztick.toml`,
    config(`auth_file = "${authPath}"`),
  );
  const { code, stderr } = await runZtick(["-c", cfg]);
  return { code, stderr, authPath };
}

Deno.test("auth file errors stop the daemon with the spec's message, exit 1", async () => {
  await using dir = await tempDir("ztick-startup-");
  const cases: [string, string | undefined, RegExp][] = [
    [
      "missing file",
      undefined,
      /^error: auth file: cannot read \S+\/missing\.toml: .+\n$/,
    ],
    [
      "bad TOML",
      "[token.deploy\nsecret = 1\n",
      /^error: auth file: invalid TOML: .+/,
    ],
    [
      "unexpected top-level key",
      'secret = "x"\n',
      /^error: auth file: unexpected entry "secret"\n$/,
    ],
    [
      "unexpected table",
      '[user.deploy]\nsecret = "x"\nnamespace = "a."\n',
      /^error: auth file: unexpected entry "user"\n$/,
    ],
    [
      "empty token name",
      '[token.""]\nsecret = "x"\nnamespace = "a."\n',
      /^error: auth file: unexpected entry ""\n$/,
    ],
    [
      "unknown key",
      '[token.deploy]\nsecret = "x"\nnamespace = "a."\nrole = "admin"\n',
      /^error: auth file: unknown key "role" in \[token\.deploy\]\n$/,
    ],
    [
      "secret missing",
      '[token.deploy]\nnamespace = "a."\n',
      /^error: auth file: \[token\.deploy\] secret is missing or empty\n$/,
    ],
    [
      "secret empty",
      '[token.deploy]\nsecret = ""\nnamespace = "a."\n',
      /^error: auth file: \[token\.deploy\] secret is missing or empty\n$/,
    ],
    [
      "secret not a string",
      '[token.deploy]\nsecret = 42\nnamespace = "a."\n',
      /^error: auth file: \[token\.deploy\] secret is missing or empty\n$/,
    ],
    [
      "namespace missing",
      '[token.deploy]\nsecret = "x"\n',
      /^error: auth file: \[token\.deploy\] namespace is missing or empty\n$/,
    ],
    [
      "namespace empty",
      '[token.deploy]\nsecret = "x"\nnamespace = ""\n',
      /^error: auth file: \[token\.deploy\] namespace is missing or empty\n$/,
    ],
    [
      "duplicate secret",
      '[token.a]\nsecret = "same"\nnamespace = "a."\n' +
      '[token.b]\nsecret = "same"\nnamespace = "b."\n',
      /^error: auth file: \[token\.a\] and \[token\.b\] share the same secret\n$/,
    ],
  ];
  await Promise.all(cases.map(async ([what, toml, expected], i) => {
    const sub = `${dir.path}/${i}`;
    await Deno.mkdir(sub);
    let result: { code: number; stderr: string };
    if (toml === undefined) {
      const cfg = await writeFile(
        `${sub}/ztick.toml`,
        config(`auth_file = "${sub}/missing.toml"`),
      );
      result = await runZtick(["-c", cfg]);
    } else {
      result = await startWithAuthFile(sub, toml);
    }
    assert.equal(result.code, 1, `${what}: ${result.stderr}`);
    assert.match(result.stderr, expected, what);
    assert.equal(result.stderr.split("\n").length, 2, `${what}: one line`);
  }));
});

Deno.test("an auth file with a syntax error does not echo its secrets", async () => {
  await using dir = await tempDir("ztick-startup-");
  const { code, stderr } = await startWithAuthFile(
    dir.path,
    '[token.deploy]\nsecret = "sk_leak_me_0001\nnamespace = "a."\n',
  );
  assert.equal(code, 1);
  assert.match(stderr, /^error: auth file: invalid TOML: /);
  assert.ok(!stderr.includes("sk_leak_me_0001"), stderr);
});

Deno.test("TLS: unreadable or invalid certificate or key, exit 1", async () => {
  await using dir = await tempDir("ztick-startup-");
  const cert = await makeCert(dir.path);
  const garbage = await writeFile(`${dir.path}/garbage.pem`, "not a pem\n");
  const empty = await writeFile(`${dir.path}/empty.pem`, "");
  const other = await Deno.makeTempDir({ dir: dir.path });
  const otherCert = await makeCert(other); // a key that does not match
  const cases: [string, string, string][] = [
    ["cert missing", `${dir.path}/nope.pem`, cert.keyPath],
    ["key missing", cert.certPath, `${dir.path}/nope.pem`],
    ["cert not PEM", garbage, cert.keyPath],
    ["key not PEM", cert.certPath, garbage],
    ["cert empty", empty, cert.keyPath],
    ["key is a cert", cert.certPath, cert.certPath],
    ["cert is a key", cert.keyPath, cert.keyPath],
    ["key does not match", cert.certPath, otherCert.keyPath],
    ["cert is a directory", dir.path, cert.keyPath],
  ];
  await Promise.all(cases.map(async ([what, certPath, keyPath], i) => {
    const cfg = await writeFile(
      `${dir.path}/ztick-${i}.toml`,
      config(`tls_cert = "${certPath}"\ntls_key = "${keyPath}"`),
    );
    const { code, stderr } = await runZtick(["-c", cfg]);
    assert.equal(code, 1, `${what}: ${stderr}`);
    assert.match(
      stderr,
      /^error: tls: cannot load certificate or key: \S.*\n$/,
      what,
    );
  }));
  // Whatever the log level, the error is the last line.
  const cfg = await writeFile(
    `${dir.path}/ztick-info.toml`,
    config(`tls_cert = "${garbage}"\ntls_key = "${cert.keyPath}"`, "info"),
  );
  const { code, stderr } = await runZtick(["-c", cfg]);
  assert.equal(code, 1);
  assert.match(stderr, /\nerror: tls: cannot load certificate or key: .+\n$/);
  assert.doesNotMatch(stderr, /listening on/);
});

Deno.test("TLS: only one of tls_cert / tls_key is a config error", async () => {
  await using dir = await tempDir("ztick-startup-");
  const cert = await makeCert(dir.path);
  for (
    const line of [
      `tls_cert = "${cert.certPath}"`,
      `tls_key = "${cert.keyPath}"`,
    ]
  ) {
    const cfg = await writeFile(`${dir.path}/ztick.toml`, config(line));
    const { code, stderr } = await runZtick(["-c", cfg]);
    assert.equal(code, 1, stderr);
    assert.equal(
      stderr,
      "error: config: [controller] tls_cert and tls_key must be set together\n",
    );
  }
});

Deno.test("an auth file without tokens, or readable by others, starts with a warning", async () => {
  await using dir = await tempDir("ztick-startup-");
  // No tokens: accepted; every AUTH fails.
  const empty = await writeFile(`${dir.path}/empty.toml`, "# nobody\n");
  const cfgEmpty = await writeFile(
    `${dir.path}/empty-ztick.toml`,
    config(`auth_file = "${empty}"`, "info"),
  );
  {
    await using daemon = await DaemonProcess.start(cfgEmpty);
    assert.match(
      daemon.log,
      /^\[WARN\] auth file: no tokens defined; every AUTH will fail$/m,
    );
    assert.equal(
      (await talkUntilClose(daemon.port, "AUTH x\n")).text,
      "ERROR\n",
    );
  }
  // Mode 0644: accepted with a warning that names the problem.
  const loose = await writeFile(`${dir.path}/loose.toml`, AUTH_TOML, 0o644);
  const cfgLoose = await writeFile(
    `${dir.path}/loose-ztick.toml`,
    config(`auth_file = "${loose}"`, "info"),
  );
  {
    await using daemon = await DaemonProcess.start(cfgLoose);
    assert.match(
      daemon.log,
      /^\[WARN\] auth file: .*(0?644|mode|permission).*$/m,
    );
    assert.ok(!daemon.log.includes(DEPLOY_SECRET));
  }
  // Mode 0600: no warning at all.
  const tight = await writeFile(`${dir.path}/tight.toml`, AUTH_TOML, 0o600);
  const cfgTight = await writeFile(
    `${dir.path}/tight-ztick.toml`,
    config(`auth_file = "${tight}"`, "info"),
  );
  {
    await using daemon = await DaemonProcess.start(cfgTight);
    assert.doesNotMatch(daemon.log, /\[WARN\]/);
  }
});

Deno.test("no secret ever appears in the daemon's log, even at debug", async () => {
  await using dir = await tempDir("ztick-startup-");
  const cert = await makeCert(dir.path);
  const authPath = await writeFile(`${dir.path}/auth.toml`, AUTH_TOML);
  const cfg = await writeFile(
    `${dir.path}/ztick.toml`,
    config(
      `auth_file = "${authPath}"\n` +
        `tls_cert = "${cert.certPath}"\ntls_key = "${cert.keyPath}"`,
      "debug",
    ),
  );
  const wrong = "sk_wrong_guess_4242";
  const daemon = await DaemonProcess.start(cfg);
  try {
    // Good AUTH, second AUTH with another secret, then every kind of
    // failed AUTH.
    {
      using client = await connectTls(daemon.port, cert);
      assert.equal(await client.request(`AUTH ${DEPLOY_SECRET}`), "OK");
      assert.equal(await client.request(`AUTH ${ADMIN_SECRET}`), "ERROR");
      assert.equal(await client.request(`AUTH "${wrong}"`), "ERROR");
      assert.equal(
        await client.request("r2 STAT").then((s) => s.slice(-5)),
        "r2 OK",
      );
    }
    {
      using client = await connectTls(daemon.port, cert);
      assert.equal(await client.request(`AUTH "${SPACED_SECRET}"`), "OK");
    }
    const failures = [
      `AUTH ${wrong}\n`,
      `AUTH "${wrong} with spaces"\n`,
      `AUTH "${wrong}\n`, // unclosed quote
      `${ADMIN_SECRET} GET x\n`, // a secret where a request id goes
      `AUTH ${wrong}${"x".repeat(5000)}\n`, // over-long
      `r1 GET ${DEPLOY_SECRET}\n`, // before AUTH
    ];
    for (const failure of failures) {
      using client = await connectTls(daemon.port, cert);
      await client.send(failure);
      assert.equal(await client.readLine(), "ERROR");
    }
    await daemon.waitForLog(/(disconnected.*\n[^]*){8}/);
  } finally {
    await daemon.stop();
  }
  const log = daemon.log;
  assert.match(log, /authentication failed/);
  for (const secret of [DEPLOY_SECRET, ADMIN_SECRET, SPACED_SECRET, wrong]) {
    assert.ok(!log.includes(secret), `"${secret}" is in the log:\n${log}`);
  }
  // Not even a fragment of the spaced secret.
  assert.ok(!log.includes("sesame"), log);
});

Deno.test("the logfile is created with mode 0600 and stays so after compaction", async () => {
  await using dir = await tempDir("ztick-startup-");
  const logfile = `${dir.path}/logfile`;
  const cfg = await writeFile(
    `${dir.path}/ztick.toml`,
    `[log]
level = "info"

[controller]
listen = "127.0.0.1:0"

[database]
persistence = "logfile"
logfile_path = "${logfile}"
compression_interval = 1
`,
  );
  await using daemon = await DaemonProcess.start(cfg);
  assert.equal((await Deno.stat(logfile)).mode! & 0o777, 0o600);
  using client = await TestClient.connect(daemon.port);
  assert.equal(
    await client.request("r1 SET a.b 4000000000000000000"),
    "r1 OK",
  );
  assert.equal(
    await client.request("r2 SET a.b 4000000000000000001"),
    "r2 OK",
  );
  await daemon.waitForLog(/compact/i, 10_000);
  await waitFor(async () => {
    const text = await Deno.readTextFile(logfile);
    return text.includes("4000000000000000001") ? true : undefined;
  });
  assert.equal((await Deno.stat(logfile)).mode! & 0o777, 0o600);
});
