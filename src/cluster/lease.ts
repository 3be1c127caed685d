/**
 * The leader lease as this node sees it (spec: cluster.md §3): pure
 * bookkeeping on an injected monotonic clock, so the timing rules are
 * unit-tested without a database.
 *
 * - Renew (or try to take the lease) every `lease / 3`.
 * - Lead only until `lease × 2/3` after the start of the last successful
 *   renewal (or takeover); past that, step down without asking anyone.
 *
 * @module
 */

/** What this node is in the cluster. */
export type ClusterRole = "leader" | "follower";

/**
 * The lease's local state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LeaseState } from "./lease.ts";
 *
 * let now = 0;
 * const lease = new LeaseState(3000, () => now);
 * const started = lease.attemptStarted();
 * now = 50;
 * lease.acquired(7n, started);
 * assert.equal(lease.leading, true);
 * now = 1999;
 * assert.equal(lease.leading, true);
 * now = 2000; // 2/3 of the lease after the takeover began
 * assert.equal(lease.leading, false);
 * assert.equal(lease.mustStepDown, true);
 * ```
 */
export class LeaseState {
  readonly #leaseMs: number;
  readonly #nowMs: () => number;
  #role: ClusterRole = "follower";
  #term = 0n;
  #deadlineMs = Number.NEGATIVE_INFINITY;

  /** `nowMs`: a monotonic clock in milliseconds (`performance.now`). */
  constructor(leaseMs: number, nowMs: () => number) {
    this.#leaseMs = leaseMs;
    this.#nowMs = nowMs;
  }

  get role(): ClusterRole {
    return this.#role;
  }

  /** The term this node leads in; the last one it led in after a step-down. */
  get term(): bigint {
    return this.#term;
  }

  /** How often to renew, or to try to take the lease. */
  get renewIntervalMs(): number {
    return this.#leaseMs / 3;
  }

  /**
   * The sessions' statement timeout: below `lease / 3`, so no statement of
   * a paused leader outlives its lease.
   */
  get statementTimeoutMs(): number {
    return Math.max(50, Math.floor(this.#leaseMs / 3) - 50);
  }

  /** The lease as the database counts it, in ms. */
  get leaseMs(): number {
    return this.#leaseMs;
  }

  /** Leader, and the local deadline not passed: may commit and fire. */
  get leading(): boolean {
    return this.#role === "leader" && this.#nowMs() < this.#deadlineMs;
  }

  /** Leader by role, but past the local deadline. */
  get mustStepDown(): boolean {
    return this.#role === "leader" && this.#nowMs() >= this.#deadlineMs;
  }

  /** Milliseconds left before the local deadline (≤ 0 when past). */
  get remainingMs(): number {
    return this.#deadlineMs - this.#nowMs();
  }

  /** The start of a takeover or renewal attempt, to pass back on success. */
  attemptStarted(): number {
    return this.#nowMs();
  }

  /** A takeover begun at `startedMs` succeeded with `term`. */
  acquired(term: bigint, startedMs: number): void {
    this.#role = "leader";
    this.#term = term;
    this.#deadlineMs = startedMs + this.#leaseMs * 2 / 3;
  }

  /** A renewal begun at `startedMs` succeeded. */
  renewed(startedMs: number): void {
    if (this.#role !== "leader") return;
    this.#deadlineMs = Math.max(
      this.#deadlineMs,
      startedMs + this.#leaseMs * 2 / 3,
    );
  }

  /** Back to follower; the term is kept for the log. */
  stepDown(): void {
    this.#role = "follower";
    this.#deadlineMs = Number.NEGATIVE_INFINITY;
  }
}
