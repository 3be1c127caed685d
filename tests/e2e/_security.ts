/**
 * Helpers shared by the security e2e tests (auth, TLS, limits): auth files,
 * a throw-away TLS certificate made with `openssl`, raw conversations.
 */
import assert from "node:assert/strict";
import { TestClient } from "../_helpers/client.ts";
import { mulberry32 } from "../_helpers/random.ts";
import type { TestCert } from "../_helpers/tls.ts";

// The certificate maker is shared with the unit tests.
export { makeCert, type TestCert } from "../_helpers/tls.ts";

/** The tokens of the spec's auth file example (configuration.md §4). */
export const DEPLOY_SECRET = "sk_deploy_7f3a91";
export const ADMIN_SECRET = "sk_admin_5c2e08";
export const SPACED_SECRET = "open sesame, said Ali";

/** The spec's example auth file plus a token whose secret holds spaces. */
export const AUTH_TOML = `[token.deploy]
secret = "${DEPLOY_SECRET}"
namespace = "deploy."

[token.admin]
secret = "${ADMIN_SECRET}"
namespace = "*"

[token.spaced]
secret = "${SPACED_SECRET}"
namespace = "spaced."
`;

/** Opens a TLS connection that trusts `cert` and completes the handshake. */
export async function connectTls(
  port: number,
  cert: TestCert,
): Promise<TestClient> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [cert.certPem],
  });
  await conn.handshake();
  return TestClient.wrap(conn);
}

/**
 * Reads until the peer closes; a reset or abrupt TLS end counts as the
 * close. Returns the text and when the close was seen (ms since `sinceMs`).
 */
export async function readToClose(
  conn: Deno.Conn,
  sinceMs = performance.now(),
): Promise<{ text: string; afterMs: number }> {
  const decoder = new TextDecoder();
  const chunk = new Uint8Array(65536);
  let text = "";
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(chunk);
    } catch (error) {
      if (
        error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.UnexpectedEof ||
        error instanceof Deno.errors.BrokenPipe
      ) {
        n = null;
      } else {
        throw error;
      }
    }
    if (n === null) break;
    text += decoder.decode(chunk.subarray(0, n), { stream: true });
  }
  return { text, afterMs: performance.now() - sinceMs };
}

/** Sends bytes, ignoring a peer that already hung up. */
export async function sendAll(
  conn: Deno.Conn,
  data: string | Uint8Array,
): Promise<void> {
  const bytes = typeof data === "string"
    ? new TextEncoder().encode(data)
    : data;
  try {
    for (let written = 0; written < bytes.length;) {
      written += await conn.write(bytes.subarray(written));
    }
  } catch (error) {
    if (
      !(error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.BrokenPipe)
    ) throw error;
  }
}

/** Opens a plain TCP connection to the daemon. */
export function connectRaw(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/** Sends `text` on a new connection and returns all answered until close. */
export async function talkUntilClose(
  port: number,
  text: string | Uint8Array,
): Promise<{ text: string; afterMs: number }> {
  using conn = await connectRaw(port);
  const started = performance.now();
  await sendAll(conn, text);
  return await readToClose(conn, started);
}

/** `length` bytes from a seeded PRNG. */
export function randomBytes(length: number, seed: number): Uint8Array {
  const next = mulberry32(seed);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(next() * 256);
  return bytes;
}

/** Runs a Python script (the tests' tool for sockets Deno cannot shape). */
export async function python(
  script: string,
  ...args: string[]
): Promise<string> {
  const output = await new Deno.Command("python3", {
    args: ["-c", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout);
}

/**
 * A Python guesser for `python(script, port, seconds)`: from 127.0.0.2,
 * `threads` connections each send `request` (a Python bytes literal with
 * two `%d`, the thread and the attempt) and hang up after 20 ms without
 * waiting for the answer. Prints the number of attempts sent.
 */
export function guesserScript(request: string, threads: number): string {
  return `
import socket, sys, threading, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
end = time.time() + seconds
sent = [0]
def guess(t):
    i = 0
    while time.time() < end:
        try:
            s = socket.socket()
            s.bind(("127.0.0.2", 0))
            s.settimeout(0.02)
            s.connect(("127.0.0.1", port))
            s.sendall(${request} % (t, i))
            sent[0] += 1
            try:
                s.recv(16)
            except OSError:
                pass
            s.close()
        except OSError:
            time.sleep(0.001)
        i += 1
threads = [threading.Thread(target=guess, args=(t,)) for t in range(${threads})]
for t in threads: t.start()
for t in threads: t.join()
print(sent[0])
`;
}
