/** Small byte and handle helpers the adapters share. */

/** Something bytes can be written to, a part at a time. */
export interface Writer {
  write(bytes: Uint8Array): Promise<number>;
}

/** Writes all of `bytes`, looping over partial writes. */
export async function writeAll(
  writer: Writer,
  bytes: Uint8Array,
): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await writer.write(bytes.subarray(written));
  }
}

/** Closes a handle, ignoring that it is already closed or fails to close. */
export function closeQuietly(handle: { close(): void }): void {
  try {
    handle.close();
  } catch {
    // already closed, or the close itself failed: nothing left to do
  }
}

/**
 * Joins byte arrays into a new one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concat } from "./io.ts";
 *
 * assert.deepEqual(
 *   concat([new Uint8Array([1]), new Uint8Array([2, 3])]),
 *   new Uint8Array([1, 2, 3]),
 * );
 * ```
 */
export function concat(
  parts: readonly Uint8Array[],
  length = totalLength(parts),
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The number of bytes in all `parts`. */
export function totalLength(parts: readonly Uint8Array[]): number {
  let total = 0;
  for (const part of parts) total += part.length;
  return total;
}

/** Something bytes can be written to synchronously, a part at a time. */
export interface SyncWriter {
  writeSync(bytes: Uint8Array): number;
}

/** Writes all of `bytes` synchronously, looping over partial writes. */
export function writeAllSync(writer: SyncWriter, bytes: Uint8Array): void {
  for (let written = 0; written < bytes.length;) {
    written += writer.writeSync(bytes.subarray(written));
  }
}

/** Writes an address as `host:port` (IPv6 hosts in brackets). */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") {
    return addr.transport;
  }
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/**
 * The UTF-8 length of `text` (a lone surrogate counts as the 3 bytes of
 * the U+FFFD `TextEncoder` writes for it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { utf8Length } from "./io.ts";
 *
 * for (const text of ["a", "é", "€", "😀", "\ud800", "a\udc00b"]) {
 *   assert.equal(utf8Length(text), new TextEncoder().encode(text).length);
 * }
 * ```
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
    } else if (
      code >= 0xd800 && code < 0xdc00 && i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      bytes += 2; // a pair: 2 units, 4 bytes
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}
