import assert from "node:assert/strict";
import type { Runner } from "../../../src/domain/runner.ts";
import { RunnerExecutor } from "../../../src/runners/mod.ts";
import type { Execution, Outcome } from "../../../src/scheduler/ports.ts";

async function run(runner: Runner): Promise<Outcome> {
  using executor = new RunnerExecutor({
    shell: { path: "/bin/sh", args: ["-c"] },
    version: "test",
  });
  const execution: Execution = {
    job: { id: "j", executionNs: 0n, status: "triggered" },
    rule: { id: "r", pattern: "", runner },
    signal: new AbortController().signal,
  };
  return await executor.execute(execution);
}

Deno.test("RunnerExecutor names a failed process's detail and the end of its stderr", async () => {
  assert.deepEqual(
    await run({ kind: "shell", command: "echo one >&2; echo two >&2; exit 3" }),
    {
      ok: false,
      reason: "exited with code 3",
      detail: "exit:3",
      stderr: "one\ntwo\n",
    },
  );
  assert.deepEqual(await run({ kind: "shell", command: "kill -KILL $$" }), {
    ok: false,
    reason: "killed by SIGKILL",
    detail: "signal:SIGKILL",
  });
  const missing = await run({
    kind: "direct",
    executable: "/no/such/program",
    args: [],
  });
  assert.equal(!missing.ok && missing.detail, "spawn-error");
  assert.deepEqual(await run({ kind: "shell", command: "true" }), {
    ok: true,
    detail: "exit:0",
  });
});

Deno.test("RunnerExecutor names an http failure by its status, other network failures error", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("no", { status: 503 }),
  );
  try {
    const outcome = await run({
      kind: "http",
      method: "GET",
      url: `http://127.0.0.1:${server.addr.port}/`,
    });
    assert.equal(!outcome.ok && outcome.detail, "http:503");
  } finally {
    await server.shutdown();
  }
  const refused = await run({
    kind: "redis",
    url: "redis://127.0.0.1:1/",
    command: "SET",
    key: "k",
  });
  assert.equal(!refused.ok && refused.detail, "error");
});
