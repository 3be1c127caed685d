/** The example daemon and conversations shared by protocol_test.ts and protocol_errors_test.ts. */
import { converse } from "../_helpers/client.ts";
import { startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { ManualClock } from "../_helpers/doubles.ts";

// 2026-01-01 00:00:00 UTC: the spec's examples (April 2026) lie ahead.
export const BEFORE_EXAMPLES = 1_767_225_600_000_000_000n;

export function daemon(): Promise<TestDaemon> {
  return startTestDaemon({
    persistence: "memory",
    clock: new ManualClock(BEFORE_EXAMPLES),
  });
}

/** Sends the lines, half-closes, and returns every answer byte. */
export async function talk(port: number, ...lines: string[]): Promise<string> {
  return await converse(port, lines.map((line) => `${line}\n`).join(""));
}

export function sortedLines(text: string): string[] {
  return text.split("\n").sort();
}
