/**
 * Runs one execution through {@link RunnerExecutor} in a child Deno
 * process, for tests that need the child's own environment: the awf runner
 * finds `awf` on PATH, and PATH is process-wide, so changing it in the test
 * process would reach every test running in parallel.
 *
 * @module
 */
import type { Rule } from "../../src/domain/rule.ts";
import type { Outcome } from "../../src/scheduler/ports.ts";
import { RunnerExecutor } from "../../src/runners/mod.ts";
import { DAEMON_PERMISSIONS } from "./subprocess.ts";

const SELF = new URL(import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

/** What the child runs: a job (its time as decimal text) under a rule. */
export interface ChildExecution {
  readonly jobId: string;
  readonly executionNs: string;
  readonly rule: Rule;
}

/** Runs `execution` in a child whose PATH is `path`; returns its outcome. */
export async function executeInChild(
  execution: ChildExecution,
  path: string,
): Promise<Outcome> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "--allow-read",
      // What the process runners spawn through, as the daemon grants it.
      ...DAEMON_PERMISSIONS.filter((flag) => flag.startsWith("--allow-ffi")),
      SELF,
      JSON.stringify(execution),
    ],
    cwd: ROOT,
    env: { PATH: path, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(
      `child failed (${output.code}): ${stdout}${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
  return JSON.parse(stdout);
}

if (import.meta.main) {
  const { jobId, executionNs, rule } = JSON.parse(
    Deno.args[0]!,
  ) as ChildExecution;
  using executor = new RunnerExecutor({
    shell: { path: "/bin/sh", args: ["-c"] },
    version: "test",
  });
  const outcome = await executor.execute({
    job: { id: jobId, executionNs: BigInt(executionNs), status: "triggered" },
    rule,
    signal: new AbortController().signal,
  });
  // deno-lint-ignore no-console
  console.log(JSON.stringify(outcome));
}
