import { concat } from "../io.ts";

/** Longest line, counting its LF and CR (spec: protocol.md §2). */
export const MAX_LINE_BYTES = 4096;
const LF = 0x0a;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** One line cut from the byte stream, without its LF. */
export type Frame =
  /** A line known to be ASCII, already decoded, without a final CR. */
  | { readonly kind: "text"; readonly text: string }
  /** Any other line, as bytes (its final CR included). */
  | { readonly kind: "line"; readonly bytes: Uint8Array }
  /** A line over the limit; `head` holds its first 4096 bytes. */
  | { readonly kind: "overlong"; readonly head: Uint8Array };

/**
 * Cuts a byte stream into LF-terminated lines of at most 4096 bytes; a
 * longer line is reported once, with its head, and the rest of it is
 * skipped (spec: protocol.md §2). Bytes after the last LF wait for more.
 * The complete lines of a chunk are decoded in one go when they are all
 * ASCII (the common case: one `TextDecoder` call per chunk, not per line).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineSplitter } from "./framing.ts";
 *
 * const splitter = new LineSplitter();
 * const encode = (text: string) => new TextEncoder().encode(text);
 * assert.deepEqual(splitter.push(encode("r1 GET a\r\nr2 G")), [
 *   { kind: "text", text: "r1 GET a" },
 * ]);
 * const [frame] = splitter.push(encode("ET b\n"));
 * assert.equal(new TextDecoder().decode(frame?.kind === "line" ? frame.bytes : undefined), "r2 GET b");
 * ```
 */
export class LineSplitter {
  #partial: Uint8Array[] = [];
  #partialBytes = 0;
  #overlong = false;

  /** Returns the lines the chunk completes. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let start = 0;
    if (this.#partialBytes > 0 || this.#overlong) {
      // Finish the line begun in an earlier chunk, byte by byte.
      const lf = chunk.indexOf(LF);
      start = lf < 0 ? chunk.length : lf + 1;
      this.#pushBytes(chunk.subarray(0, start), frames);
    }
    start = this.#pushAscii(chunk, start, frames);
    this.#pushBytes(chunk.subarray(start), frames);
    return frames;
  }

  /**
   * Adds the complete lines from `start` as text frames when they are all
   * ASCII; returns where the bytes it did not take begin.
   */
  #pushAscii(chunk: Uint8Array, start: number, frames: Frame[]): number {
    const end = chunk.lastIndexOf(LF);
    if (end < start) return start;
    let text: string;
    try {
      text = UTF8.decode(chunk.subarray(start, end));
    } catch {
      return start;
    }
    // Every non-ASCII character takes more bytes than UTF-16 code units.
    if (text.length !== end - start) return start;
    let offset = start;
    for (const line of text.split("\n")) {
      frames.push(
        line.length >= MAX_LINE_BYTES
          ? {
            kind: "overlong",
            head: chunk.subarray(offset, offset + MAX_LINE_BYTES),
          }
          : {
            kind: "text",
            text: line.endsWith("\r") ? line.slice(0, -1) : line,
          },
      );
      offset += line.length + 1;
    }
    return end + 1;
  }

  #pushBytes(chunk: Uint8Array, frames: Frame[]): void {
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const end = lf === -1 ? chunk.length : lf;
      const piece = chunk.subarray(start, end);
      const lineBytes = this.#partialBytes + piece.length + (lf === -1 ? 0 : 1);
      if (!this.#overlong && lineBytes > MAX_LINE_BYTES) {
        this.#overlong = true;
        this.#keep(piece.subarray(0, MAX_LINE_BYTES - this.#partialBytes));
      } else if (!this.#overlong) {
        this.#keep(piece);
      }
      if (lf === -1) break;
      frames.push(this.#take());
      start = lf + 1;
    }
  }

  #keep(piece: Uint8Array): void {
    if (piece.length === 0) return;
    // A chunk buffer is reused by the reader: keep a copy of what waits.
    this.#partial.push(piece);
    this.#partialBytes += piece.length;
  }

  #take(): Frame {
    const parts = this.#partial;
    const bytes = parts.length === 1
      ? parts[0]!
      : concat(parts, this.#partialBytes);
    const frame: Frame = this.#overlong
      ? { kind: "overlong", head: bytes }
      : { kind: "line", bytes };
    this.#partial = [];
    this.#partialBytes = 0;
    this.#overlong = false;
    return frame;
  }

  /** Copies the bytes waiting for their LF out of a buffer about to be reused. */
  detach(): void {
    if (this.#partialBytes > 0) {
      this.#partial = [concat(this.#partial, this.#partialBytes)];
    }
  }
}
