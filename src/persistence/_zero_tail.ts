/**
 * The zero-filled tail of a logfile: with fsync on, the journal writes
 * zeros ahead of its records, a extent at a time, so that the fsync of a
 * group writes into blocks the file already has and commits no metadata
 * (its size and block map stay as they are). Readers take the run of NUL
 * bytes that ends the file as the end of its records: no record holds a NUL
 * (a token never contains a control character, protocol.md §3), and one
 * inside the file is still a corrupt line, skipped as before.
 *
 * @module
 */

/** The journal preallocates this many zero bytes past what it needs. */
export const EXTENT_BYTES = 1 << 20;
/** The zero tail is searched backwards this many bytes at a time. */
const SCAN_BYTES = 64 << 10;

/** A file that can be read at an offset. */
export interface ReadAt {
  read(p: Uint8Array): Promise<number | null>;
  seek(offset: number, whence: Deno.SeekMode): Promise<number>;
}

/**
 * Where the records of a file of `size` bytes end: after its last byte that
 * is not NUL (0 for an empty or all-zero file). Moves the file position.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataEnd } from "./_zero_tail.ts";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array([0x41, 0x0a, 0, 0, 0]));
 * using file = await Deno.open(path);
 * assert.equal(await dataEnd(file, 5), 2);
 * await Deno.remove(path);
 * ```
 */
export async function dataEnd(file: ReadAt, size: number): Promise<number> {
  const block = new Uint8Array(Math.min(SCAN_BYTES, size));
  for (let end = size; end > 0;) {
    const start = Math.max(0, end - SCAN_BYTES);
    const part = block.subarray(0, end - start);
    await file.seek(start, Deno.SeekMode.Start);
    await readFully(file, part);
    for (let i = part.length - 1; i >= 0; i--) {
      if (part[i] !== 0) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

async function readFully(file: ReadAt, part: Uint8Array): Promise<void> {
  for (let read = 0; read < part.length;) {
    const n = await file.read(part.subarray(read));
    if (n === null) {
      part.fill(0, read); // shrank meanwhile: the missing bytes count as zeros
      return;
    }
    read += n;
  }
}

/**
 * Reads a file from an offset, up to a limit or, once the limit is lifted,
 * up to the first NUL byte (where the writer has not written yet); the
 * position stays before that NUL, so a later read sees what came since.
 */
export class RecordSource {
  readonly #file: ReadAt;
  #position = 0;
  /** Where reading stops; `undefined`: at the first NUL. */
  limit: number | undefined;

  constructor(file: ReadAt, limit?: number) {
    this.#file = file;
    this.limit = limit;
  }

  /** Where the next read begins. */
  get position(): number {
    return this.#position;
  }

  /** Reads on from `position`. */
  async seek(position: number): Promise<void> {
    await this.#file.seek(position, Deno.SeekMode.Start);
    this.#position = position;
  }

  /** Reads like a file, stopping at the limit or the first NUL. */
  async read(p: Uint8Array): Promise<number | null> {
    const limit = this.limit;
    if (limit !== undefined) {
      if (this.#position >= limit) return null;
      p = p.subarray(0, Math.min(p.length, limit - this.#position));
    }
    const n = await this.#file.read(p);
    if (n === null) return null;
    const nul = limit === undefined ? p.subarray(0, n).indexOf(0) : -1;
    if (nul === -1) {
      this.#position += n;
      return n;
    }
    await this.seek(this.#position + nul);
    return nul === 0 ? null : nul;
  }
}
