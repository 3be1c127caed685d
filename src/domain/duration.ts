/** The longest duration: 2^32−1 seconds (spec: extensions.md §1). */
export const MAX_DURATION_MS = 4_294_967_295_000;

const DURATION = /^([0-9]+)(ms|s|m|h|d)?$/;

/** Milliseconds per unit, largest first: the order canonical rendering tries. */
const UNITS: readonly (readonly [unit: string, ms: number])[] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
];

/**
 * Reads a duration: decimal digits and one lower-case unit `ms`, `s`, `m`,
 * `h` or `d`, bare digits meaning seconds, at most 2^32−1 seconds; returns
 * milliseconds. Throws `SyntaxError` for anything else: spaces, signs,
 * fractions, upper-case or combined units (spec: extensions.md §1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./duration.ts";
 *
 * assert.equal(parseDuration("1500ms"), 1500);
 * assert.equal(parseDuration("030"), 30_000);
 * assert.equal(parseDuration("2h"), 7_200_000);
 * assert.throws(() => parseDuration("1h30m"), SyntaxError);
 * assert.throws(() => parseDuration("10S"), SyntaxError);
 * assert.throws(() => parseDuration("4294967296s"), SyntaxError);
 * ```
 */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text);
  if (match === null) throw new SyntaxError(`"${text}" is not a duration`);
  const unit = match[2] ?? "s";
  const ms = Number(match[1]) * UNITS.find(([name]) => name === unit)![1];
  if (!(ms <= MAX_DURATION_MS)) {
    throw new SyntaxError(`duration "${text}" is longer than 2^32-1 seconds`);
  }
  return ms;
}

/**
 * Writes a duration in the largest unit of `d`, `h`, `m`, `s`, `ms` that
 * expresses it exactly; zero is `0s` (spec: extensions.md §1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./duration.ts";
 *
 * assert.equal(formatDuration(90_000), "90s");
 * assert.equal(formatDuration(120_000), "2m");
 * assert.equal(formatDuration(1500), "1500ms");
 * assert.equal(formatDuration(0), "0s");
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  for (const [unit, size] of UNITS) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`; // not reached for whole milliseconds
}
