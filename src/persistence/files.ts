/**
 * The logfile's files: its error, the one place that names the compaction
 * temp file, and the file operations the journal and compaction share.
 *
 * @module
 */
import { dirname } from "node:path";
import { fsReason } from "../errors.ts";
import { writeAll } from "../io.ts";

const ENCODER = new TextEncoder();
/** Compaction writes the temp file in pieces of about this many bytes. */
const WRITE_CHUNK_BYTES = 1 << 20;
/** Room past a full piece for the line that fills it. */
const SPARE_BYTES = 64 << 10;
/**
 * The temp file is fsynced every this many bytes: a large final fsync would
 * stall the groups' synchronous fsyncs meanwhile (~25 ms at 1M jobs, ~15 ms
 * with this).
 */
const SYNC_EVERY_BYTES = 8 << 20;

/**
 * The logfile or its directory cannot be opened; startup fails with this
 * message (spec: configuration.md §3).
 */
export class LogfileError extends Error {
  override name = "LogfileError";
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`logfile: cannot open ${path}: ${reason}`, options);
  }
}

/**
 * Another daemon holds the logfile's lock; startup fails with this message
 * (spec: configuration.md §3, persistence.md §8).
 */
export class LogfileLockedError extends Error {
  override name = "LogfileLockedError";
  constructor(readonly path: string) {
    super(`logfile: ${path} is locked by another process`);
  }
}

/** The file operations the journal uses; `Deno.FsFile` has them all. */
export interface FileLike {
  write(p: Uint8Array): Promise<number>;
  writeSync(p: Uint8Array): number;
  syncData(): Promise<void>;
  syncDataSync(): void;
  truncateSync(length: number): void;
  seekSync(offset: number, whence: Deno.SeekMode): number;
  close(): void;
}

/** Opens a file; tests wrap the handle to inject write and sync faults. */
export type OpenFile = (
  path: string,
  options: Deno.OpenOptions,
) => Promise<FileLike>;

/**
 * The compaction temp file of a logfile, `<logfile>.compact`
 * (spec: persistence.md §7, §8).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compactionTempPath } from "./files.ts";
 *
 * assert.equal(compactionTempPath("/var/lib/ztick/logfile"), "/var/lib/ztick/logfile.compact");
 * ```
 */
export function compactionTempPath(logfile: string): string {
  return `${logfile}.compact`;
}

/**
 * The lock file of a logfile, `<logfile>.lock`: locked, not the logfile,
 * because compaction replaces the logfile's inode (persistence.md §8).
 */
export function lockPath(logfile: string): string {
  return `${logfile}.lock`;
}

/**
 * Opens `path` for reading and writing, creating it readable by its owner
 * only (0600): a file the daemon cannot write fails here, at startup.
 */
export function openOwn(path: string): Promise<Deno.FsFile> {
  return Deno.open(path, {
    read: true,
    write: true,
    create: true,
    mode: 0o600,
  });
}

/**
 * Takes the exclusive lock of a logfile for as long as the returned handle
 * is open; the lock file is created mode 0600 and never deleted.
 *
 * @throws {LogfileLockedError} when another process holds it.
 * @throws {LogfileError} when the lock file cannot be opened (named by the
 *   logfile's path).
 */
export async function lockLogfile(logfile: string): Promise<Disposable> {
  const path = lockPath(logfile);
  let file: Deno.FsFile;
  try {
    file = await openOwn(path);
  } catch (error) {
    // Named by the logfile: its directory is what is missing or closed.
    throw new LogfileError(logfile, fsReason(error), { cause: error });
  }
  if (!await file.tryLock(true)) {
    file.close();
    throw new LogfileLockedError(logfile);
  }
  return file;
}

/** Deletes a file; one that is already gone is fine. */
export async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Makes a rename in the directory of `path` durable. */
export function syncDirectorySync(path: string): void {
  const directory = Deno.openSync(dirname(path), { read: true });
  try {
    directory.syncSync();
  } finally {
    directory.close();
  }
}

/** Wraps a failed file operation; anything else is a bug and passes. */
export function ioFailure(path: string, error: unknown): unknown {
  return isIoError(error)
    ? new LogfileError(path, fsReason(error), { cause: error })
    : error;
}

/** Tells whether `error` is one of Deno's I/O errors. */
export function isIoError(error: unknown): boolean {
  return Object.values(Deno.errors).some((type) => error instanceof type);
}

/**
 * Encodes lines straight into one reused buffer and writes it in large
 * pieces: no string per piece and no array of lines, which kept the young
 * generation busy copying survivors during a compaction.
 */
export class ChunkWriter {
  readonly #file: FileLike;
  #buffer = new Uint8Array(WRITE_CHUNK_BYTES + SPARE_BYTES);
  #used = 0;
  #unsynced = 0;
  /** Bytes written so far. */
  bytes = 0;

  constructor(file: FileLike) {
    this.#file = file;
  }

  /** Tells whether a piece is ready to be written. */
  get isFull(): boolean {
    return this.#used >= WRITE_CHUNK_BYTES;
  }

  /** Adds a line and its LF. */
  add(line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit, plus the LF.
    const needed = this.#used + line.length * 3 + 1;
    if (needed > this.#buffer.length) {
      const larger = new Uint8Array(needed + SPARE_BYTES);
      larger.set(this.#buffer.subarray(0, this.#used));
      this.#buffer = larger;
    }
    this.#used += ENCODER.encodeInto(line, this.#buffer.subarray(this.#used))
      .written;
    this.#buffer[this.#used++] = 0x0a;
  }

  /** Writes what was added; fsyncs every 8 MiB. */
  async flush(): Promise<void> {
    if (this.#used === 0) return;
    const used = this.#used;
    this.#used = 0;
    this.bytes += used;
    await writeAll(this.#file, this.#buffer.subarray(0, used));
    this.#unsynced += used;
    if (this.#unsynced >= SYNC_EVERY_BYTES) {
      this.#unsynced = 0;
      await this.#file.syncData();
    }
  }
}
