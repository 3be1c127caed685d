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
