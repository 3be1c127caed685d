/** How the accept loops of the TCP and HTTP servers treat a failed accept. */
import { errorMessage } from "../errors.ts";

/** Pause after `accept` failed for lack of descriptors or memory. */
const EXHAUSTED_PAUSE_MS = 10;
/** errno of EMFILE, ENFILE, ENOBUFS, ENOMEM as Deno words them. */
const EXHAUSTION = /\(os error (24|23|105|12)\)/;

/**
 * How long to wait before the next `accept` after this error: at once
 * after a per-connection failure (a peer that reset before its connection
 * was accepted: the next client must not wait), briefly when the process is
 * out of descriptors or memory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acceptPauseMs } from "./_accept.ts";
 *
 * assert.equal(acceptPauseMs(new Error("Socket is not connected (os error 107)")), 0);
 * assert.equal(acceptPauseMs(new Error("Too many open files (os error 24)")), 10);
 * ```
 */
export function acceptPauseMs(error: unknown): number {
  return EXHAUSTION.test(errorMessage(error)) ? EXHAUSTED_PAUSE_MS : 0;
}
