import assert from "node:assert/strict";
import type { Command } from "../../../src/domain/command.ts";
import type { Result } from "../../../src/domain/result.ts";
import {
  Connection,
  type ConnectionContext,
} from "../../../src/server/connection.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** A context whose SETs commit only when the test says so. */
class HeldCommits implements ConnectionContext {
  readonly handled: string[] = [];
  readonly #commits: PromiseWithResolvers<void>[] = [];

  execute(command: Command): Result {
    if (command.kind === "set") {
      this.handled.push(`set ${command.jobId}`);
      const commit = Promise.withResolvers<void>();
      this.#commits.push(commit);
      return { kind: "done", committed: commit.promise };
    }
    if (command.kind === "get") {
      this.handled.push(`get ${command.jobId}`);
      const job = { id: command.jobId, executionNs: 1n, status: "planned" };
      return { kind: "job", job: { ...job, status: "planned" } };
    }
    return { kind: "invalid", reason: "not in this test" };
  }

  commit(i: number, error?: Error): void {
    if (error) this.#commits[i]!.reject(error);
    else this.#commits[i]!.resolve();
  }
}

/** Serves one connection of a loopback listener with `context`. */
async function serveOne(context: ConnectionContext) {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  const server = await listener.accept();
  const served = new Connection(server, context).serve();
  return { client, served };
}

async function readUntil(conn: Deno.Conn, text: string): Promise<string> {
  const buffer = new Uint8Array(4096);
  let got = "";
  while (!got.includes(text)) {
    const n = await conn.read(buffer);
    if (n === null) break;
    got += DECODER.decode(buffer.subarray(0, n));
  }
  return got;
}

async function waitUntil(predicate: () => boolean): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!predicate()) {
    assert.ok(performance.now() < deadline, "condition not met within 5 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("Connection reads the next chunk while answers wait for their commit, and answers in order", async () => {
  const context = new HeldCommits();
  const { client, served } = await serveOne(context);
  await client.write(ENCODER.encode("r1 SET a 1\n"));
  await waitUntil(() => context.handled.length === 1);
  // r1 is not committed yet; the next chunk is applied all the same.
  await client.write(ENCODER.encode("r2 GET a\nr3 SET b 1\n"));
  await waitUntil(() => context.handled.length === 3);
  assert.deepEqual(context.handled, ["set a", "get a", "set b"]);
  context.commit(1);
  context.commit(0);
  assert.equal(
    await readUntil(client, "r3 OK\n"),
    "r1 OK\nr2 OK planned 1\nr3 OK\n",
  );
  client.close();
  await served;
});

Deno.test("Connection answers ERROR for a record whose commit fails, in its place", async () => {
  const context = new HeldCommits();
  const { client, served } = await serveOne(context);
  await client.write(ENCODER.encode("r1 SET a 1\nr2 SET b 1\n"));
  await waitUntil(() => context.handled.length === 2);
  context.commit(0, new Error("disk full"));
  context.commit(1);
  assert.equal(await readUntil(client, "r2 OK\n"), "r1 ERROR\nr2 OK\n");
  client.close();
  await served;
});

/**
 * A context answering GET with the id in the status field and time 0
 * (`<id> OK <job id> 0`), for framing tests.
 */
const ECHO_GET: ConnectionContext = {
  execute: (command): Result =>
    command.kind === "get"
      ? {
        kind: "job",
        job: {
          id: command.jobId,
          executionNs: 0n,
          status: echo(command.jobId),
        },
      }
      : { kind: "invalid", reason: "not in this test" },
};

/** Smuggles an id through the status field of the GET answer. */
function echo(id: string): "planned" {
  return id as "planned";
}

/** Sends `writes` one by one, then half-closes; returns all answers. */
async function converseRaw(writes: (string | Uint8Array)[]): Promise<string> {
  const { client, served } = await serveOne(ECHO_GET);
  for (const write of writes) {
    await client.write(
      typeof write === "string" ? ENCODER.encode(write) : write,
    );
  }
  await client.closeWrite();
  const answers = await readUntil(client, "\0never");
  client.close();
  await served;
  return answers;
}

Deno.test("Connection frames whole ASCII chunks and line-by-line ones alike", async () => {
  const overlong = `r3 GET ${"x".repeat(5000)}`;
  const lines = `r1 GET a\r\n\n  \nr2 GET b\n${overlong}\nr4 GET c\n`;
  const expected = "r1 OK a 0\nr2 OK b 0\nr3 ERROR\nr4 OK c 0\n";
  // One chunk of ASCII lines (decoded at once).
  assert.equal(await converseRaw([lines]), expected);
  // The same bytes cut inside lines, inside CRLF and inside the long line.
  const cuts = [5, 9, 10, 40, 1000, 5030];
  const pieces = cuts.map((cut, i) => lines.slice(cuts[i - 1] ?? 0, cut));
  pieces.push(lines.slice(cuts.at(-1)));
  assert.equal(await converseRaw(pieces), expected);
  // A non-ASCII line sends the whole chunk down the line-by-line path.
  assert.equal(
    await converseRaw([`r0 GET é\n${lines}`]),
    `r0 OK é 0\n${expected}`,
  );
  // Invalid UTF-8 on one line: that line alone is refused.
  const bad = new Uint8Array([...ENCODER.encode("r9 GET "), 0xff, 0x0a]);
  assert.equal(
    await converseRaw([
      new Uint8Array([...ENCODER.encode(lines), ...bad]),
      "r5 GET d\n",
    ]),
    `${expected}r9 ERROR\nr5 OK d 0\n`,
  );
});
