import assert from "node:assert/strict";
import type { Runner } from "../../../src/domain/runner.ts";
import { RunnerExecutor } from "../../../src/runners/mod.ts";
import type { Execution, Outcome } from "../../../src/scheduler/ports.ts";
import { executeInChild } from "../../_helpers/execute_child.ts";
import { tempDir } from "../../_helpers/fs.ts";

const ENCODER = new TextEncoder();

/** What these tests check of an outcome: success, or the reason. */
function brief(outcome: Outcome): { ok: boolean; reason?: string } {
  return outcome.ok ? { ok: true } : { ok: false, reason: outcome.reason };
}
const DECODER = new TextDecoder();
const JOB_ID = "job.$(touch /tmp/pwned); *";
const EXECUTION_NS = 1775008800000000000n;

function execution(
  runner: Runner,
  signal = new AbortController().signal,
): Execution {
  return {
    job: { id: JOB_ID, executionNs: EXECUTION_NS, status: "triggered" },
    rule: { id: "rule.1", pattern: "job.", runner },
    signal,
  };
}

/**
 * Writes an executable script into `dir` that records, NUL-separated next
 * to itself, its argv (`$0` first) and its environment: the job's three
 * variables, PATH and the working directory.
 */
async function recorder(dir: string, name = "recorder"): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh
for arg in "$0" "$@"; do printf '%s\\0' "$arg"; done > "${path}.argv"
printf '%s\\0' "$ZTICK_JOB_ID" "$ZTICK_JOB_EXECUTION" "$ZTICK_RULE_ID" "$PATH" "$(pwd)" > "${path}.env"
`,
    { mode: 0o755 },
  );
  return path;
}

async function recorded(path: string, what: "argv" | "env") {
  const text = await Deno.readTextFile(`${path}.${what}`);
  return text.split("\0").slice(0, -1);
}

/** What the recorder sees run by this process: the job, our PATH and cwd. */
function ownEnv(): string[] {
  return [
    JOB_ID,
    String(EXECUTION_NS),
    "rule.1",
    Deno.env.get("PATH") ?? "",
    Deno.cwd(),
  ];
}

Deno.test("RunnerExecutor runs a shell rule as [shell path, ...shell args, command] in the daemon's environment", async () => {
  await using dir = await tempDir("ztick-runners-");
  const shell = await recorder(dir.path, "fake shell");
  using executor = new RunnerExecutor({
    shell: { path: shell, args: ["-e", "-c"] },
    version: "0.1.0",
  });
  const command = 'echo "$ZTICK_JOB_ID" > out; exit 0';
  const outcome = await executor.execute(
    execution({ kind: "shell", command }),
  );
  assert.deepEqual(brief(outcome), { ok: true });
  assert.deepEqual(await recorded(shell, "argv"), [shell, "-e", "-c", command]);
  assert.deepEqual(await recorded(shell, "env"), ownEnv());
});

Deno.test("RunnerExecutor runs a shell rule through a real shell with the job in its environment", async () => {
  await using dir = await tempDir("ztick-runners-");
  using executor = new RunnerExecutor({
    shell: { path: "/bin/sh", args: ["-c"] },
    version: "0.1.0",
  });
  const out = `${dir.path}/out`;
  const ok = await executor.execute(execution({
    kind: "shell",
    command:
      `printf '%s|%s|%s' "$ZTICK_JOB_ID" "$ZTICK_JOB_EXECUTION" "$ZTICK_RULE_ID" > '${out}'`,
  }));
  assert.deepEqual(ok, { ok: true, detail: "exit:0" });
  assert.equal(await Deno.readTextFile(out), ownEnv().slice(0, 3).join("|"));
  const failed = await executor.execute(
    execution({ kind: "shell", command: "echo oops >&2; exit 3" }),
  );
  assert.deepEqual(brief(failed), { ok: false, reason: "exited with code 3" });
});

Deno.test("RunnerExecutor runs a direct rule with its argv literal", async () => {
  await using dir = await tempDir("ztick-runners-");
  const program = await recorder(dir.path);
  using executor = new RunnerExecutor({
    shell: { path: "/bin/false", args: [] },
    version: "0.1.0",
  });
  const args = ["$HOME", "a b", "", "*", "'q'", '"dq"', "--input", "\\n"];
  const outcome = await executor.execute(
    execution({ kind: "direct", executable: program, args }),
  );
  assert.deepEqual(brief(outcome), { ok: true });
  assert.deepEqual(await recorded(program, "argv"), [program, ...args]);
  assert.deepEqual(await recorded(program, "env"), ownEnv());
});

Deno.test("RunnerExecutor reports a direct rule's exit code and a missing executable", async () => {
  using executor = new RunnerExecutor({
    shell: { path: "/bin/sh", args: ["-c"] },
    version: "0.1.0",
  });
  assert.deepEqual(
    brief(
      await executor.execute(
        execution({
          kind: "direct",
          executable: "/bin/sh",
          args: ["-c", "exit 7"],
        }),
      ),
    ),
    { ok: false, reason: "exited with code 7" },
  );
  const missing = await executor.execute(
    execution({ kind: "direct", executable: "/no/such/program", args: [] }),
  );
  assert.equal(missing.ok, false);
  assert.match(!missing.ok ? missing.reason : "", /"\/no\/such\/program"/);
});

Deno.test("RunnerExecutor starts no process for an execution already aborted", async () => {
  await using dir = await tempDir("ztick-runners-");
  const program = await recorder(dir.path);
  using executor = new RunnerExecutor({
    shell: { path: program, args: [] },
    version: "0.1.0",
  });
  const controller = new AbortController();
  controller.abort(new Error("shutting down"));
  for (
    const runner of [
      { kind: "direct", executable: program, args: [] },
      { kind: "shell", command: "true" },
    ] as const
  ) {
    const outcome = await executor.execute(
      execution(runner, controller.signal),
    );
    assert.deepEqual(brief(outcome), {
      ok: false,
      reason: "Error: shutting down",
    });
  }
  await assert.rejects(
    () => Deno.stat(`${program}.argv`),
    Deno.errors.NotFound,
  );
});

Deno.test("RunnerExecutor runs an awf rule as `awf run <workflow> --input <value>…` found on PATH", async () => {
  await using dir = await tempDir("ztick-runners-");
  const awf = await recorder(dir.path, "awf");
  const outcome = await executeInChild({
    jobId: JOB_ID,
    executionNs: String(EXECUTION_NS),
    rule: {
      id: "rule.1",
      pattern: "job.",
      runner: {
        kind: "awf",
        workflow: "nightly-review",
        inputs: ["branch=main", "depth 2", ""],
      },
    },
  }, `${dir.path}:/usr/bin:/bin`);
  assert.deepEqual(brief(outcome), { ok: true });
  const [argv0, ...args] = await recorded(awf, "argv");
  assert.ok(argv0?.endsWith("/awf"), argv0);
  assert.deepEqual(args, [
    "run",
    "nightly-review",
    "--input",
    "branch=main",
    "--input",
    "depth 2",
    "--input",
    "",
  ]);
  assert.deepEqual(await recorded(awf, "env"), [
    JOB_ID,
    String(EXECUTION_NS),
    "rule.1",
    `${dir.path}:/usr/bin:/bin`,
    new URL("../../../", import.meta.url).pathname.replace(/\/$/, ""),
  ]);
});

Deno.test("RunnerExecutor fails an awf rule when awf is not on PATH", async () => {
  await using dir = await tempDir("ztick-runners-");
  const outcome = await executeInChild({
    jobId: "j",
    executionNs: "1",
    rule: {
      id: "r",
      pattern: "",
      runner: { kind: "awf", workflow: "w", inputs: [] },
    },
  }, dir.path);
  assert.equal(outcome.ok, false);
  assert.match(!outcome.ok ? outcome.reason : "", /cannot run "awf"/);
});

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  readonly headers: Headers;
}

async function withReceiver(
  status: number,
  test: (url: string, seen: Seen[]) => Promise<void>,
) {
  const seen: Seen[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      seen.push({
        method: request.method,
        path: new URL(request.url).pathname,
        body: await request.text(),
        headers: request.headers,
      });
      return new Response(null, {
        status,
        headers: status === 302 ? { location: "/elsewhere" } : {},
      });
    },
  );
  try {
    await test(`http://127.0.0.1:${server.addr.port}/hooks/due`, seen);
  } finally {
    await server.shutdown();
  }
}

Deno.test("RunnerExecutor sends an http rule's request with the job as JSON and its version", async () => {
  await withReceiver(200, async (url, seen) => {
    using executor = new RunnerExecutor({
      shell: { path: "/bin/sh", args: ["-c"] },
      version: "9.8.7",
    });
    assert.deepEqual(
      await executor.execute(execution({ kind: "http", method: "POST", url })),
      { ok: true, detail: "http:200" },
    );
    assert.deepEqual(
      await executor.execute(execution({ kind: "http", method: "GET", url })),
      { ok: true, detail: "http:200" },
    );
    assert.deepEqual(
      await executor.execute(
        execution({ kind: "http", method: "DELETE", url }),
      ),
      { ok: true, detail: "http:200" },
    );
    assert.equal(seen.length, 3);
    const [post, get, del] = seen;
    assert.equal(post!.method, "POST");
    assert.equal(post!.path, "/hooks/due");
    assert.deepEqual(JSON.parse(post!.body), {
      job_id: JOB_ID,
      execution: Number(EXECUTION_NS),
    });
    assert.match(post!.body, /"execution":1775008800000000000}$/);
    assert.equal(post!.headers.get("content-type"), "application/json");
    assert.equal(post!.headers.get("user-agent"), "ztick/9.8.7");
    assert.equal(
      post!.headers.get("content-length"),
      String(ENCODER.encode(post!.body).length),
    );
    assert.equal(post!.headers.get("host"), new URL(url).host);
    assert.equal(get!.method, "GET");
    assert.equal(get!.body, "");
    assert.equal(get!.headers.get("content-type"), null);
    assert.equal(get!.headers.get("user-agent"), "ztick/9.8.7");
    assert.equal(del!.method, "DELETE");
    assert.equal(del!.body, "");
    assert.equal(del!.headers.get("content-type"), null);
  });
});

for (const status of [302, 404, 503]) {
  Deno.test(`RunnerExecutor fails an http rule answered ${status}`, async () => {
    await withReceiver(status, async (url) => {
      using executor = new RunnerExecutor({
        shell: { path: "/bin/sh", args: ["-c"] },
        version: "0.1.0",
      });
      assert.deepEqual(
        brief(
          await executor.execute(
            execution({ kind: "http", method: "PUT", url }),
          ),
        ),
        { ok: false, reason: `${url} answered ${status}` },
      );
    });
  });
}

/** Reads from `conn` until `text` has arrived; returns all read. */
async function readUntil(conn: Deno.Conn, text: string): Promise<string> {
  const buffer = new Uint8Array(4096);
  let got = "";
  while (!got.includes(text)) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`EOF before ${JSON.stringify(text)}`);
    got += DECODER.decode(buffer.subarray(0, n));
  }
  return got;
}

Deno.test("RunnerExecutor keeps http connections alive and closes them when disposed", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${listener.addr.port}/k`;
  const executor = new RunnerExecutor({
    shell: { path: "/bin/sh", args: ["-c"] },
    version: "0.1.0",
  });
  const first = executor.execute(
    execution({ kind: "http", method: "GET", url }),
  );
  using conn = await listener.accept();
  assert.match(await readUntil(conn, "\r\n\r\n"), /^GET \/k HTTP\/1\.1\r\n/);
  await conn.write(ENCODER.encode("HTTP/1.1 204 No Content\r\n\r\n"));
  assert.deepEqual(brief(await first), { ok: true });
  // The second request comes over the same connection.
  const second = executor.execute(
    execution({ kind: "http", method: "GET", url }),
  );
  assert.match(await readUntil(conn, "\r\n\r\n"), /^GET \/k HTTP\/1\.1\r\n/);
  await conn.write(
    ENCODER.encode("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
  );
  assert.deepEqual(brief(await second), { ok: true });
  executor[Symbol.dispose]();
  assert.equal(await conn.read(new Uint8Array(16)), null, "closed by dispose");
});

/** A loopback port nobody listens on. */
function closedPort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

Deno.test("RunnerExecutor hands amqp and redis rules to their runners", async () => {
  const port = closedPort();
  using executor = new RunnerExecutor({
    shell: { path: "/bin/sh", args: ["-c"] },
    version: "0.1.0",
  });
  const amqp = await executor.execute(execution({
    kind: "amqp",
    dsn: `amqp://app:s3cret@127.0.0.1:${port}/`,
    exchange: "scheduler",
    routingKey: "job.due",
  }));
  assert.equal(amqp.ok, false);
  assert.match(
    !amqp.ok ? amqp.reason : "",
    new RegExp(`^Cannot .* via "amqp://127\\.0\\.0\\.1:${port}/`),
  );
  assert.doesNotMatch(!amqp.ok ? amqp.reason : "", /s3cret/);
  const redis = await executor.execute(execution({
    kind: "redis",
    url: `redis://127.0.0.1:${port}/2`,
    command: "RPUSH",
    key: "queue:due",
  }));
  assert.equal(redis.ok, false);
  assert.match(
    !redis.ok ? redis.reason : "",
    new RegExp(`^Cannot .* via "redis://127\\.0\\.0\\.1:${port}`),
  );
});
