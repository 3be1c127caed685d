/** The execution the process runner tests start from. */
import type { Execution } from "../../../src/scheduler/ports.ts";

/** A shell job whose id would run a command if it reached a shell string. */
export function execution(
  signal: AbortSignal = new AbortController().signal,
): Execution {
  return {
    job: {
      id: "job.$(touch /tmp/pwned); x",
      executionNs: 1775008800000000000n,
      status: "triggered",
    },
    rule: {
      id: "rule.1",
      pattern: "job.",
      runner: { kind: "shell", command: "true" },
    },
    signal,
  };
}
