/**
 * Clients that try to lock others out: a flood of connections reset before
 * they are accepted, and a host guessing secrets over many connections
 * (spec: protocol.md §9).
 */
import assert from "node:assert/strict";
import { TestClient } from "../_helpers/client.ts";
import { writeFile } from "../_helpers/fs.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { guesserScript, python } from "./_security.ts";

const SECRET = "sk_right_5c2e08";
const AUTH_TOML = `[token.admin]\nsecret = "${SECRET}"\nnamespace = "*"\n`;

/** Connects `n` times and closes each with SO_LINGER {1, 0}: an RST. */
const RESET_FLOOD = `
import socket, struct, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.connect(("127.0.0.1", port))
    s.close()
`;

Deno.test("100 connections reset before they are accepted do not hold up the next client", async () => {
  await using daemon = await startTestDaemon({ persistence: "memory" });
  await python(RESET_FLOOD, String(daemon.port), "100");
  const started = performance.now();
  using client = await TestClient.connect(daemon.port);
  assert.equal(await client.request("r1 GET nothing"), "r1 ERROR");
  const answeredMs = performance.now() - started;
  // Before the fix each reset cost a 100 ms pause: 10 s for the hundred.
  assert.ok(answeredMs < 2000, `answered after ${answeredMs.toFixed(0)} ms`);
});

/**
 * From 127.0.0.2, keeps 40 connections guessing secrets for `seconds`:
 * each sends a wrong AUTH and hangs up after 20 ms without waiting for the
 * answer. Prints the number of attempts sent.
 */
const GUESSER = guesserScript(
  'b"AUTH guess-%d-%d\\n"',
  40,
);

Deno.test("a host guessing secrets over many connections is checked a few times a second; a right secret from elsewhere is answered at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-abuse-" });
  try {
    const authFile = await writeFile(`${dir}/auth.toml`, AUTH_TOML);
    const config = await writeFile(
      `${dir}/config.toml`,
      `[controller]\nlisten = "127.0.0.1:0"\nauth_file = "${authFile}"\n` +
        `[database]\npersistence = "memory"\n`,
    );
    await using daemon = await DaemonProcess.start(config);
    const attack = python(GUESSER, String(daemon.port), "3");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const started = performance.now();
    using client = await TestClient.connect(daemon.port);
    assert.equal(await client.request(`AUTH ${SECRET}`), "OK");
    const answeredMs = performance.now() - started;
    const sent = Number(await attack);
    // Checks finish up to 5 s later (queued turns, 250 ms answer delay).
    await new Promise((resolve) => setTimeout(resolve, 5500));
    const checked = daemon.log.match(/authentication failed/g)?.length ?? 0;
    assert.match(
      daemon.log,
      /\[WARN\] auth: more than 5 failed attempts from 127\.0\.0\.2/,
    );
    // 5 at once, then 2 a second, over at most 3 s + 5 s of queued turns.
    assert.ok(
      checked <= 5 + 2 * 8 + 1,
      `${checked} of ${sent} secrets checked`,
    );
    assert.ok(sent > 10 * checked, `only ${sent} guesses sent`);
    assert.ok(
      answeredMs < 1000,
      `right secret answered after ${answeredMs} ms`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
