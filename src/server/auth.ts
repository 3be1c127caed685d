import { createHash, timingSafeEqual } from "node:crypto";
import { logger } from "../log.ts";
import type { Counter } from "../scheduler/ports.ts";

const log = logger("auth");

/** How long a new connection has to authenticate (spec: protocol.md §9). */
export const AUTH_DEADLINE_MS = 5000;
/** A refused secret is answered only after this long. */
export const AUTH_FAILURE_DELAY_MS = 250;
/** Failed attempts one peer address may make at once… */
const BURST = 5;
/** …and then this many a second, however many connections it opens. */
const PER_SECOND = 2;
/** Peer addresses remembered at most; throttled ones are kept first. */
const MAX_PEERS = 10_000;

/** A secret and the namespace it grants (spec: configuration.md §4). */
export interface AuthToken {
  readonly secret: string;
  readonly namespace: string;
}

/**
 * How an attempt ended: the namespace of the matching token; `refused` (a
 * wrong or missing secret); `throttled` (not looked at: too many recent
 * failures from that address); `abandoned` (the connection closed first).
 */
export type AuthOutcome =
  | { readonly kind: "accepted"; readonly namespace: string }
  | { readonly kind: "refused" | "throttled" | "abandoned" };

/** Checks AUTH secrets and Bearer tokens (spec: protocol.md §9). */
export interface Authenticator {
  /**
   * Checks a secret from the peer address `peer`. A refused secret is
   * answered only after a delay, and an address with many recent failures
   * waits for its turn before its secret is even looked at, so nobody learns
   * faster that a guess was right; one whose turn would come after the AUTH
   * deadline is throttled at once. `signal` gives up the wait.
   */
  verify(
    secret: string | undefined,
    peer: string,
    signal?: AbortSignal,
  ): Promise<AuthOutcome>;
  /** How long a client has to authenticate after accept. */
  readonly deadlineMs: number;
}

/** Tuning for tests, and where failures are counted. */
export interface AuthOptions {
  readonly failureDelayMs?: number;
  readonly burst?: number;
  readonly perSecond?: number;
  /** `ztick_auth_failures_total`. */
  readonly failures?: Counter;
  /** Failed attempts per peer; passed on so a reload keeps them. */
  readonly throttle?: FailureThrottle;
}

/**
 * Builds the secret check from an auth file's tokens: secrets are compared
 * as SHA-256 digests in constant time, so neither their content nor their
 * length leaks through timing (spec: protocol.md §9); failed attempts are
 * bounded per peer address.
 */
export function createAuthenticator(
  secrets: readonly AuthToken[],
  options: AuthOptions = {},
): Authenticator {
  const tokens = secrets.map((token) => ({
    digest: sha256(token.secret),
    namespace: token.namespace,
  }));
  const match = (secret: string): string | undefined => {
    const digest = sha256(secret);
    let found: string | undefined;
    // Every token is compared, so the time does not tell which matched.
    for (const token of tokens) {
      if (timingSafeEqual(token.digest, digest)) found = token.namespace;
    }
    return found;
  };
  const throttle = options.throttle ??
    new FailureThrottle(
      options.burst ?? BURST,
      options.perSecond ?? PER_SECOND,
    );
  const failureDelayMs = options.failureDelayMs ?? AUTH_FAILURE_DELAY_MS;
  return {
    deadlineMs: AUTH_DEADLINE_MS,
    async verify(secret, peer, signal) {
      const turnMs = throttle.reserve(peer);
      // A turn later than the AUTH deadline would never come: refuse now,
      // without looking at the secret.
      if (turnMs >= AUTH_DEADLINE_MS) {
        throttle.refund(peer);
        return THROTTLED;
      }
      if (!await sleep(turnMs, signal)) {
        throttle.refund(peer);
        return ABANDONED;
      }
      const namespace = secret === undefined ? undefined : match(secret);
      if (namespace !== undefined) {
        throttle.refund(peer);
        return { kind: "accepted", namespace };
      }
      options.failures?.add();
      await sleep(failureDelayMs, signal);
      return REFUSED;
    },
  };
}

const REFUSED: AuthOutcome = { kind: "refused" };
const THROTTLED: AuthOutcome = { kind: "throttled" };
const ABANDONED: AuthOutcome = { kind: "abandoned" };

/** One peer address's bucket of failed attempts. */
interface Bucket {
  tokens: number;
  updatedMs: number;
  tripped: boolean;
}

/**
 * A token bucket of failed attempts per peer address: every attempt
 * reserves a token (waiting for it when there is none), a success gives it
 * back. So a peer makes `burst` attempts at once and then `perSecond`,
 * whatever the number of its connections.
 */
export class FailureThrottle {
  readonly #peers = new Map<string, Bucket>();
  readonly #burst: number;
  readonly #perSecond: number;

  constructor(burst = BURST, perSecond = PER_SECOND) {
    this.#burst = burst;
    this.#perSecond = perSecond;
  }

  /** Reserves a token for one attempt; returns how long to wait for it. */
  reserve(peer: string, nowMs = performance.now()): number {
    const bucket = this.#bucket(peer, nowMs);
    bucket.tokens -= 1;
    if (bucket.tokens >= 0) return 0;
    if (!bucket.tripped) {
      bucket.tripped = true;
      log.warn(
        `auth: more than ${this.#burst} failed attempts from ${peer}; checking ${this.#perSecond} a second from there`,
        { peer },
      );
    }
    return (-bucket.tokens / this.#perSecond) * 1000;
  }

  /** Gives back the token of an attempt that succeeded or was not made. */
  refund(peer: string): void {
    const bucket = this.#peers.get(peer);
    if (bucket) bucket.tokens = Math.min(this.#burst, bucket.tokens + 1);
  }

  #bucket(peer: string, nowMs: number): Bucket {
    let bucket = this.#peers.get(peer);
    if (bucket === undefined) {
      if (this.#peers.size >= MAX_PEERS) this.#forget(nowMs);
      bucket = { tokens: this.#burst, updatedMs: nowMs, tripped: false };
      this.#peers.set(peer, bucket);
      return bucket;
    }
    const refill = ((nowMs - bucket.updatedMs) / 1000) * this.#perSecond;
    bucket.tokens = Math.min(this.#burst, bucket.tokens + refill);
    bucket.updatedMs = nowMs;
    if (bucket.tokens >= this.#burst) bucket.tripped = false;
    return bucket;
  }

  /** Forgets peers whose bucket is full again, else the oldest half. */
  #forget(nowMs: number): void {
    for (const [peer, bucket] of this.#peers) {
      const refill = ((nowMs - bucket.updatedMs) / 1000) * this.#perSecond;
      if (bucket.tokens + refill >= this.#burst) this.#peers.delete(peer);
    }
    let excess = this.#peers.size - MAX_PEERS / 2;
    for (const peer of this.#peers.keys()) {
      if (excess-- <= 0) break;
      this.#peers.delete(peer);
    }
  }
}

/** Resolves `true` after `ms`, or `false` at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (slept: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(slept);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function sha256(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}
