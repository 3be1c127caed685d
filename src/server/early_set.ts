/**
 * A front door's warning for SETs that look like epoch seconds or
 * milliseconds: accepted, as ztick accepts them, but logged with the
 * instant they mean (spec: configuration.md §5). The command layer stays
 * silent; this runs beside it.
 *
 * @module
 */
import { formatTimestamp } from "../domain/timestamp.ts";
import type { Log } from "../log.ts";

/**
 * 2001-09-09T01:46:40Z (10^9 s) in nanoseconds: earlier times are what
 * seconds (up to year 33658) or milliseconds read as nanoseconds give.
 */
export const EARLY_SET_NS = 1_000_000_000_000_000_000n;

/**
 * Logs a warn line when a SET's time lies before {@link EARLY_SET_NS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { warnOfEarlySet } from "./early_set.ts";
 *
 * const lines: string[] = [];
 * const log = { warn: (m: string) => lines.push(m), error() {}, info() {}, debug() {} };
 * warnOfEarlySet("r1", { jobId: "j", executionNs: 1775008800n }, log);
 * warnOfEarlySet("r2", { jobId: "j", executionNs: 1775008800000000000n }, log);
 * assert.deepEqual(lines, [
 *   "request r1: SET j at 1775008800 means 1970-01-01T00:00:01.7750088Z" +
 *     " (times are nanoseconds, not seconds or milliseconds)",
 * ]);
 * ```
 */
export function warnOfEarlySet(
  requestId: string,
  { jobId, executionNs }: { jobId: string; executionNs: bigint },
  log: Log,
): void {
  if (executionNs >= EARLY_SET_NS) return;
  log.warn(
    `request ${requestId}: SET ${jobId} at ${executionNs} means ${
      formatTimestamp(executionNs)
    } (times are nanoseconds, not seconds or milliseconds)`,
    { request: requestId, job: jobId },
  );
}
