/**
 * The real clock and timers, plugged into the scheduler's `Clock` and
 * `Timer` ports by the daemon.
 *
 * @module
 */
import { clearImmediate, setImmediate } from "node:timers";
import type { Cancel, Clock, Timer } from "./scheduler/ports.ts";

/**
 * The wall clock with sub-millisecond resolution: `performance.now()` plus an
 * offset taken right at a tick of `Date.now()`, which has whole milliseconds
 * only. Both clocks are slewed alike, so the sum stays within the current
 * millisecond of `Date.now()`; when it leaves it (the wall clock was set),
 * the offset is taken again. The sum never runs ahead of the wall clock, so a
 * job is never seen due before its time (spec: protocol.md §7).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SYSTEM_CLOCK } from "./system_time.ts";
 *
 * const ms = Number(SYSTEM_CLOCK.nowNs() / 1_000_000n);
 * assert.ok(Math.abs(ms - Date.now()) <= 1);
 * ```
 */
export class SystemClock implements Clock {
  #offsetMs = wallClockOffsetMs();

  nowNs(): bigint {
    const wallMs = Date.now();
    let ms = performance.now() + this.#offsetMs;
    if (ms < wallMs || ms >= wallMs + 1) {
      this.#offsetMs = wallClockOffsetMs();
      ms = performance.now() + this.#offsetMs;
    }
    return BigInt(Math.floor(ms * 1000)) * 1000n;
  }
}

/**
 * Waits for the next tick of `Date.now()` (≤ 1 ms) and returns the offset
 * from `performance.now()` to the wall clock at that tick, in ms.
 */
export function wallClockOffsetMs(): number {
  const first = Date.now();
  let wallMs = first;
  while (wallMs === first) wallMs = Date.now();
  return wallMs - performance.now();
}

/** The daemon's clock. */
export const SYSTEM_CLOCK: Clock = new SystemClock();

/** `setTimeout` and `setImmediate` behind the `Timer` port. */
export const SYSTEM_TIMER: Timer = {
  after(delayMs: number, task: () => void): Cancel {
    const timer = setTimeout(task, delayMs);
    return () => clearTimeout(timer);
  },
  soon(task: () => void): Cancel {
    const immediate = setImmediate(task);
    return () => clearImmediate(immediate);
  },
};
