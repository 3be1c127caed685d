import assert from "node:assert/strict";
import { runProcess } from "../../../src/runners/_process.ts";
import { execution } from "./_process.ts";
import { waitFor } from "../../_helpers/client.ts";
import { pgrep } from "../../_helpers/fs.ts";

Deno.test("runProcess() passes the job context in the environment, never in argv", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { outcome } = await runProcess("/bin/sh", [
      "-c",
      `printf '%s|%s|%s' "$ZTICK_JOB_ID" "$ZTICK_JOB_EXECUTION" "$ZTICK_RULE_ID" > ${dir}/env`,
    ], execution());
    assert.deepEqual(outcome, { ok: true, detail: "exit:0" });
    assert.equal(
      await Deno.readTextFile(`${dir}/env`),
      "job.$(touch /tmp/pwned); x|1775008800000000000|rule.1",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runProcess() gives the child an empty stdin", async () => {
  const { outcome } = await runProcess(
    "/bin/sh",
    ["-c", 'test -z "$(cat)"'],
    execution(),
  );
  assert.deepEqual(outcome, { ok: true, detail: "exit:0" });
});

Deno.test("runProcess() reports a non-zero exit with the stderr tail", async () => {
  const { outcome, stderrTail } = await runProcess(
    "/bin/sh",
    [
      "-c",
      "head -c 10000 /dev/zero | tr '\\0' a >&2; echo tail-end >&2; exit 3",
    ],
    execution(),
  );
  assert.deepEqual(outcome, {
    ok: false,
    reason: "exited with code 3",
    detail: "exit:3",
  });
  assert.ok(stderrTail.endsWith("tail-end\n"));
  assert.equal(stderrTail.length, 4096);
});

Deno.test("runProcess() reports a missing program as a failure", async () => {
  const { outcome } = await runProcess("/no/such/program", [], execution());
  assert.equal(outcome.ok, false);
  assert.equal(outcome.detail, "spawn-error");
  assert.match(
    !outcome.ok ? outcome.reason : "",
    /cannot run "\/no\/such\/program"/,
  );
});

Deno.test("runProcess() searches PATH for a name without a slash", async () => {
  const { outcome } = await runProcess("true", [], execution());
  assert.deepEqual(outcome, { ok: true, detail: "exit:0" });
});

Deno.test("runProcess() does not wait for a background child that keeps stderr open", async () => {
  const started = Date.now();
  const { outcome } = await runProcess(
    "/bin/sh",
    ["-c", "sleep 3 & exit 0"],
    execution(),
  );
  assert.deepEqual(outcome, { ok: true, detail: "exit:0" });
  assert.ok(Date.now() - started < 2500, "returned when the shell exited");
  await new Promise((resolve) => setTimeout(resolve, 0));
});

Deno.test("runProcess() kills the whole process group when aborted", async () => {
  const marker = `sleep 100.${Math.floor(Math.random() * 1e9)}`;
  const controller = new AbortController();
  const running = runProcess(
    "/bin/sh",
    ["-c", `${marker}; true`],
    execution(controller.signal),
  );
  await waitFor(async () => (await pgrep(marker)) ? true : undefined, {
    what: "sleep to start",
  });
  controller.abort(new Error("timed out"));
  const { outcome } = await running;
  assert.deepEqual(outcome, {
    ok: false,
    reason: "Error: timed out",
    detail: "signal:SIGTERM",
  });
  await waitFor(async () => (await pgrep(marker)) ? undefined : true, {
    what: "sleep to die",
  });
});

Deno.test("runProcess() sends SIGKILL 5 s after SIGTERM is ignored", async () => {
  const controller = new AbortController();
  const started = Date.now();
  const running = runProcess(
    "/bin/sh",
    ["-c", "trap '' TERM; echo ready >&2; while :; do sleep 0.1; done"],
    execution(controller.signal),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  controller.abort(new Error("timed out"));
  const { outcome } = await running;
  assert.equal(outcome.ok, false);
  assert.ok(Date.now() - started >= 5000, "the grace period was honoured");
});
