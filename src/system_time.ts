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
 * millisecond of `Date.now()` (or lags it by the few µs between the two
 * reads, then the tick is used); when it is off by a millisecond or more
 * (the wall clock was set), the offset is taken again. The sum never runs ahead of the wall clock, so a
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
    // `performance.now()` first: the wall clock read after it cannot be
    // behind it, so only a set clock can make the sum look ahead.
    let ms = performance.now() + this.#offsetMs;
    const wallMs = Date.now();
    if (ms >= wallMs + 1 || ms < wallMs - 1) {
      // Taking the offset again waits for a tick (up to 1 ms): only when
      // the wall clock was set, never on the few µs between the two reads.
      this.#offsetMs = wallClockOffsetMs();
      ms = performance.now() + this.#offsetMs;
    } else if (ms < wallMs) {
      // Just past a tick of `Date.now()`: the tick itself is not ahead.
      ms = wallMs;
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
