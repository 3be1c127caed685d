import type { Cancel, Clock, Timer } from "./ports.ts";

/** Re-check the wall clock at least this often (spec: protocol.md §7). */
const MAX_SLEEP_MS = 1000;
/**
 * Timers fire 1–2 ms late, so they wake the scheduler this long before a job
 * is due, and the rest of the wait is polled with {@link Timer.soon}, which
 * lets I/O run between polls.
 */
const POLL_WITHIN_NS = 2_000_000n;
/** While due jobs are held (read-only journal), look again this often. */
const HELD_RETRY_MS = 50;
const NS_PER_MS = 1_000_000n;

/** What the wake-up watches and whom it wakes. */
export interface WakeupOptions {
  readonly timer: Timer;
  readonly clock: Clock;
  /** When the next planned job is due, if any. */
  readonly nextDueNs: () => bigint | undefined;
  /** While `true`, due jobs are held and looked at again every 50 ms. */
  readonly held: () => boolean;
  /** Called once when it is time; it calls {@link Wakeup.arm} again. */
  readonly onWake: () => void;
}

/**
 * The scheduler's single timer: sleeps until shortly before the next due
 * job (at most one second), then polls the last 2 ms without blocking I/O
 * (spec: protocol.md §7).
 */
export class Wakeup {
  readonly #options: WakeupOptions;
  readonly #wake = () => {
    this.#cancel = undefined;
    this.#options.onWake();
  };
  #cancel: Cancel | undefined;

  constructor(options: WakeupOptions) {
    this.#options = options;
  }

  /** Tells whether a wake-up is pending. */
  get armed(): boolean {
    return this.#cancel !== undefined;
  }

  /**
   * Wakes when the next job is due, or in a second; replaces any wake-up.
   * `nowNs`: the clock's reading, when the caller took it just now (the
   * last 2 ms are polled, and a clock read is much of each poll's cost).
   */
  arm(nowNs?: bigint): void {
    this.disarm();
    const { timer, clock, nextDueNs, held } = this.#options;
    const dueNs = nextDueNs();
    let delayMs = MAX_SLEEP_MS;
    if (dueNs !== undefined) {
      const waitNs = dueNs - (nowNs ?? clock.nowNs());
      if (held()) {
        delayMs = HELD_RETRY_MS;
      } else if (waitNs <= POLL_WITHIN_NS) {
        this.#cancel = timer.soon(this.#wake);
        return;
      } else if (waitNs < BigInt(MAX_SLEEP_MS) * NS_PER_MS) {
        delayMs = Number((waitNs - POLL_WITHIN_NS) / NS_PER_MS);
      }
    }
    this.#cancel = timer.after(delayMs, this.#wake);
  }

  /** Cancels the pending wake-up, if any. */
  disarm(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }
}
