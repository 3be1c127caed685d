/** The accept loop of the TCP and HTTP servers, and how it treats a failed accept. */
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

/**
 * Accepts connections until the listener is closed, handing each to
 * `serve`; a failed accept goes to `failed` with the pause
 * {@link acceptPauseMs} chose, and the loop goes on after it.
 */
export async function acceptLoop(
  listener: Deno.TcpListener,
  serve: (conn: Deno.TcpConn) => void,
  failed: (error: unknown, pauseMs: number) => void,
): Promise<void> {
  for (;;) {
    let conn: Deno.TcpConn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (error instanceof Deno.errors.BadResource) return; // closed
      const pauseMs = acceptPauseMs(error);
      failed(error, pauseMs);
      if (pauseMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
      continue;
    }
    serve(conn);
  }
}
