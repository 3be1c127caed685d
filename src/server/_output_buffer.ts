/**
 * A connection's answers encoded into one reused buffer: a short ASCII
 * text (every answer but long `QUERY` and `LISTRULES` lists) is copied in
 * JavaScript, which spares each answer a fresh `Uint8Array` (its
 * allocation costs more than a `TextEncoder` call); anything else goes
 * through `TextEncoder`.
 */

/** Longest text encoded into the reused buffer (its largest size). */
const REUSED_MAX = 1024;
const FIRST_SIZE = 256;
const ENCODER = new TextEncoder();

/**
 * Encodes text for one writer at a time: the bytes returned stay valid
 * until the next call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OutputBuffer } from "./_output_buffer.ts";
 *
 * const output = new OutputBuffer();
 * assert.deepEqual(output.encode("r OK\n"), new TextEncoder().encode("r OK\n"));
 * assert.deepEqual(output.encode("r é\n"), new TextEncoder().encode("r é\n"));
 * ```
 */
export class OutputBuffer {
  #buffer: Uint8Array | undefined;

  /** The UTF-8 bytes of `text`, valid until the next call. */
  encode(text: string): Uint8Array {
    const n = text.length;
    if (n > REUSED_MAX) return ENCODER.encode(text);
    let buffer = this.#buffer;
    if (buffer === undefined || buffer.length < n) {
      buffer = this.#buffer = new Uint8Array(
        Math.min(
          REUSED_MAX,
          Math.max(FIRST_SIZE, 2 ** Math.ceil(Math.log2(n))),
        ),
      );
    }
    for (let i = 0; i < n; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) return ENCODER.encode(text);
      buffer[i] = code;
    }
    return buffer.subarray(0, n);
  }
}
