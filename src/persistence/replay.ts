import type { Mutation } from "../domain/mutation.ts";
import { compactionTempPath, ioFailure, openOwn } from "./files.ts";
import { parseRecord } from "./record.ts";
import { fsReason } from "../errors.ts";
import { dataEnd, RecordSource } from "./_zero_tail.ts";

/** Bytes read per `read()`; 256 KiB–1 MiB decode fastest (measured). */
const CHUNK_BYTES = 256 << 10;
const LF = 0x0a;
const CR = 13; // as a UTF-16 code unit
/** `ignoreBOM` keeps a U+FEFF at the start of a chunk: it is line content. */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The reason given for a line that is not valid UTF-8. */
export const INVALID_UTF8 = "invalid UTF-8";

/** What a logfile replay found: the records in file order, and the warnings. */
export interface Replayed {
  readonly mutations: Mutation[];
  readonly warnings: string[];
}

/**
 * Receives one complete line, without its LF and a CR before it; `undefined`
 * when the line is not valid UTF-8. `lineNumber` counts from 1.
 */
export type LineHandler = (
  line: string | undefined,
  lineNumber: number,
) => void;

/** A source of bytes; `Deno.FsFile` is one. */
export interface ByteReader {
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * Reads the logfile at startup, repairing it for appending: deletes a
 * leftover `<path>.compact`, creates the logfile (mode 0600) when missing,
 * skips corrupt lines with a warning, and truncates a torn last line away
 * (spec: persistence.md §6 steps 1–4). The zero-filled tail the journal
 * preallocates is the end of the records (see `_zero_tail.ts`); it stays,
 * unless a torn line before it is cut off.
 *
 * @throws {LogfileError} when the file or its directory cannot be opened,
 *   read or repaired.
 *
 * @example A torn tail is dropped and cut off the file
 * ```ts
 * import assert from "node:assert/strict";
 * import { replayLogfile } from "./replay.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/logfile`;
 * await Deno.writeTextFile(path, "REMOVE a\nSET b 1");
 * const { mutations, warnings } = await replayLogfile(path);
 * assert.deepEqual(mutations, [{ kind: "remove", jobId: "a" }]);
 * assert.deepEqual(warnings, [
 *   "logfile: dropped incomplete last line (7 bytes)",
 * ]);
 * assert.equal(await Deno.readTextFile(path), "REMOVE a\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function replayLogfile(path: string): Promise<Replayed> {
  const mutations: Mutation[] = [];
  const warnings = await replayLogfileInto(
    path,
    (mutation) => mutations.push(mutation),
  );
  return { mutations, warnings };
}

/**
 * Replays like {@link replayLogfile}, handing each record to `apply` as it
 * is read instead of keeping them all, so a large logfile is never held in
 * memory twice. Returns the warnings.
 *
 * @throws {LogfileError} as {@link replayLogfile} does.
 */
export async function replayLogfileInto(
  path: string,
  apply: (mutation: Mutation) => void,
): Promise<string[]> {
  const warnings: string[] = [];
  const leftover = await removeLeftover(path);
  let file: Deno.FsFile;
  try {
    // Opened for writing too: a file the daemon cannot append to fails here.
    file = await openOwn(path);
  } catch (error) {
    throw ioFailure(path, error);
  }
  if (leftover !== undefined) warnings.push(leftover);
  try {
    const source = new RecordSource(file);
    const reader = new LineReader(source, recordHandler(apply, warnings));
    try {
      source.limit = await dataEnd(file, (await file.stat()).size);
      await source.seek(0);
      await reader.readToEnd();
      if (reader.pendingBytes > 0) {
        warnings.push(
          `logfile: dropped incomplete last line (${reader.pendingBytes} bytes)`,
        );
        // Cut before anything is appended, so no record lands on the torn one.
        await file.truncate(reader.completeBytes);
        await file.syncData();
      }
    } catch (error) {
      throw ioFailure(path, error);
    }
  } finally {
    file.close();
  }
  return warnings;
}

/** Applies each record of a line; a corrupt line is a warning. */
function recordHandler(
  apply: (mutation: Mutation) => void,
  warnings: string[],
): LineHandler {
  return (line, lineNumber) => {
    if (line === undefined) {
      warnings.push(`logfile: line ${lineNumber} skipped: ${INVALID_UTF8}`);
      return;
    }
    try {
      const mutation = parseRecord(line);
      if (mutation !== undefined) apply(mutation);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      warnings.push(`logfile: line ${lineNumber} skipped: ${error.message}`);
    }
  };
}

/** Deletes a leftover compaction temp file; returns a warning if it cannot. */
async function removeLeftover(path: string): Promise<string | undefined> {
  const tempPath = compactionTempPath(path);
  try {
    await Deno.remove(tempPath);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      return `logfile: cannot remove leftover ${tempPath}: ${fsReason(error)}`;
    }
  }
  return undefined;
}

/**
 * Reads a file's lines chunk by chunk, keeping an incomplete last line
 * until it is completed by a later read (for `dump --follow`) or the caller
 * gives it up. One decode per chunk; only chunks holding invalid UTF-8 are
 * decoded line by line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader } from "./replay.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/logfile`;
 * await Deno.writeTextFile(path, "REMOVE a\r\nREMOVE b\nREM");
 * using file = await Deno.open(path);
 * const lines: string[] = [];
 * const reader = new LineReader(file, (line) => lines.push(line ?? "?"));
 * await reader.readToEnd();
 * assert.deepEqual(lines, ["REMOVE a", "REMOVE b"]);
 * assert.equal(reader.completeBytes, 19);
 * assert.equal(reader.pendingBytes, 3);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class LineReader {
  readonly #source: ByteReader;
  readonly #onLine: LineHandler;
  #buffer = new Uint8Array(CHUNK_BYTES);
  /** `#buffer[0, #pending)` holds the incomplete last line read so far. */
  #pending = 0;
  #completeBytes = 0;
  #lineCount = 0;

  constructor(source: ByteReader, onLine: LineHandler) {
    this.#source = source;
    this.#onLine = onLine;
  }

  /** Bytes of the complete lines read so far, i.e. up to the last LF. */
  get completeBytes(): number {
    return this.#completeBytes;
  }

  /** Bytes held of an incomplete last line (no LF yet). */
  get pendingBytes(): number {
    return this.#pending;
  }

  /** Complete lines read so far. */
  get lineCount(): number {
    return this.#lineCount;
  }

  /**
   * Forgets the incomplete last line; the caller seeks the source back to
   * `completeBytes` before reading on.
   */
  dropPending(): void {
    this.#pending = 0;
  }

  /**
   * Reads one chunk and hands its complete lines to the handler; returns
   * `false` at the end of the source.
   */
  async readChunk(): Promise<boolean> {
    // Keep at least half the buffer free, so a long line costs O(n) reads.
    if (this.#pending > this.#buffer.length >> 1) {
      const larger = new Uint8Array(this.#buffer.length * 2);
      larger.set(this.#buffer.subarray(0, this.#pending));
      this.#buffer = larger;
    }
    const buffer = this.#buffer;
    const start = this.#pending;
    const count = await this.#source.read(buffer.subarray(start));
    if (count === null) return false;
    const end = start + count;
    const lastLf = buffer.subarray(start, end).lastIndexOf(LF);
    if (lastLf === -1) {
      this.#pending = end;
      return true;
    }
    const used = start + lastLf + 1;
    this.#lineCount = emitLines(
      buffer.subarray(0, used),
      this.#lineCount,
      this.#onLine,
    );
    this.#completeBytes += used;
    buffer.copyWithin(0, used, end);
    this.#pending = end - used;
    return true;
  }

  /** Reads until the end of the source. */
  async readToEnd(): Promise<void> {
    while (await this.readChunk());
  }
}

/**
 * Hands each complete line of `bytes` to `onLine` (numbered from 1) and
 * returns how many bytes that used: up to and including the last LF; the
 * rest is an incomplete line to keep for later.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitLines } from "./replay.ts";
 *
 * const bytes = new Uint8Array([
 *   ...new TextEncoder().encode("REMOVE a\r\n"),
 *   0xff, 0x0a, // invalid UTF-8
 *   ...new TextEncoder().encode("REMOVE b\nREMO"),
 * ]);
 * const lines: [string | undefined, number][] = [];
 * const used = splitLines(bytes, (line, n) => lines.push([line, n]));
 * assert.deepEqual(lines, [["REMOVE a", 1], [undefined, 2], ["REMOVE b", 3]]);
 * assert.equal(bytes.length - used, 4);
 * ```
 */
export function splitLines(bytes: Uint8Array, onLine: LineHandler): number {
  const used = bytes.lastIndexOf(LF) + 1;
  if (used > 0) emitLines(bytes.subarray(0, used), 0, onLine);
  return used;
}

/**
 * Hands the lines of `bytes`, which ends with LF, to `onLine`; returns the
 * number of the last one.
 */
function emitLines(
  bytes: Uint8Array,
  lineCount: number,
  onLine: LineHandler,
): number {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return emitLinesSlowly(bytes, lineCount, onLine);
  }
  const lines = text.split("\n");
  const last = lines.length - 1; // the "" after the final LF
  for (let i = 0; i < last; i++) {
    const line = lines[i]!;
    onLine(
      line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line,
      ++lineCount,
    );
  }
  return lineCount;
}

/** Decodes line by line, so one bad line does not spoil its neighbours. */
function emitLinesSlowly(
  bytes: Uint8Array,
  lineCount: number,
  onLine: LineHandler,
): number {
  for (let start = 0; start < bytes.length;) {
    const lf = bytes.indexOf(LF, start);
    let line: string | undefined;
    try {
      line = UTF8.decode(bytes.subarray(start, lf));
      if (line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      line = undefined;
    }
    onLine(line, ++lineCount);
    start = lf + 1;
  }
  return lineCount;
}
