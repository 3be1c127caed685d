/**
 * Sub-millisecond wall-clock time in this process: `performance.now()`
 * plus an offset taken at an edge of `Date.now()`, re-calibrated before
 * each measurement so that clock slewing cannot accumulate.
 *
 * @module
 */

import { wallClockOffsetMs } from "../src/system_time.ts";

let offsetMs = Date.now() - performance.now();

/** Re-anchors the offset at a `Date.now()` tick (spins ≤ 1 ms). */
export function calibrateWallClock(): void {
  offsetMs = wallClockOffsetMs();
}

/** Milliseconds since the epoch, with a fraction. */
export function wallNowMs(): number {
  return performance.now() + offsetMs;
}

/** Nanoseconds since the epoch as a bigint (µs precision). */
export function wallNowNs(): bigint {
  return BigInt(Math.round(wallNowMs() * 1000)) * 1000n;
}

/** Converts ns since the epoch to ms since the epoch (sub-µs precision). */
export function nsToMs(ns: bigint): number {
  return Number(ns / 1000n) / 1000;
}
