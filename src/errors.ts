/** Turning thrown values into the text of log lines and error messages. */

/**
 * The message of anything thrown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorMessage } from "./errors.ts";
 *
 * assert.equal(errorMessage(new Error("boom")), "boom");
 * assert.equal(errorMessage("plain"), "plain");
 * ```
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A file-system error's reason without Deno's `: <op> '<path>'` tail, for
 * messages that already name the path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fsReason } from "./errors.ts";
 *
 * assert.equal(
 *   fsReason(new Error("No such file or directory (os error 2): readfile '/x'")),
 *   "No such file or directory (os error 2)",
 * );
 * ```
 */
export function fsReason(error: unknown): string {
  return errorMessage(error).replace(/: [a-z_]+ '[^]*'$/, "");
}
