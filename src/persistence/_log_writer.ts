/** The end of the logfile the journal appends to, and cutting it back. */
import { fsReason } from "../errors.ts";
import { closeQuietly, writeAllSync } from "../io.ts";
import { logger } from "../log.ts";
import type { FileLike } from "./files.ts";

const log = logger("logfile");
/**
 * Recovery after a failed write checks for room with a comment line of one
 * page (replay ignores it, and truncates it away if torn), then cuts it off.
 */
const PROBE = new TextEncoder().encode(`#${" ".repeat(4096 - 2)}\n`);

/** A write that failed; `cut` tells whether the file was cut back. */
export class WriteFailure extends Error {
  override name = "WriteFailure";
  constructor(override readonly cause: unknown, readonly cut: boolean) {
    super(fsReason(cause), { cause });
  }
}

/**
 * Writes groups at the end of the logfile, knowing where each began, so a
 * failed one can be cut off again; copies what it wrote to a compaction's
 * tee. The file may be given up (then `isOpen` is false).
 */
export class LogWriter {
  readonly #path: string;
  #file: FileLike | undefined;
  /** Bytes of the file that hold written groups: where the next one begins. */
  #size: number;
  /** Bytes written while a compaction runs, for its temp file. */
  #tee: Uint8Array[] | undefined;

  constructor(path: string, file: FileLike, size: number) {
    this.#path = path;
    this.#file = file;
    this.#size = size;
  }

  /** Tells whether there is a file to write to. */
  get isOpen(): boolean {
    return this.#file !== undefined;
  }

  /** Where the next group begins. */
  get size(): number {
    return this.#size;
  }

  /**
   * Writes `bytes` at the end, and fsyncs synchronously when `sync`;
   * returns where they begin. On failure the file is cut back first.
   *
   * @throws {WriteFailure} with the write's or fsync's error
   */
  write(bytes: Uint8Array, sync: boolean): number {
    const file = this.#file;
    if (file === undefined) {
      throw new WriteFailure(new Error("no logfile open"), false);
    }
    const start = this.#size;
    try {
      writeAllSync(file, bytes);
      if (sync) file.syncDataSync();
    } catch (error) {
      throw new WriteFailure(error, this.cutBack(start));
    }
    this.#size += bytes.length;
    this.#tee?.push(bytes);
    return start;
  }

  /** Fsyncs what was written, off the event loop. */
  syncData(): Promise<void> {
    return this.#file?.syncData() ?? Promise.resolve();
  }

  /**
   * Cuts the file back to `start`, so no byte after it counts; returns
   * whether that worked. Truncation works on a full disk.
   */
  cutBack(start: number): boolean {
    try {
      this.#file?.truncateSync(start);
      this.#size = start;
      return true;
    } catch (error) {
      const reason = fsReason(error);
      log.error(
        `logfile: cannot cut ${this.#path} back to ${start} bytes: ${reason}`,
        { reason },
      );
      return false;
    }
  }

  /**
   * Checks that a page fits: writes and fsyncs a comment line of one page,
   * then cuts it off again.
   *
   * @throws {Error} when it does not fit, or there is no file
   */
  probe(): void {
    const file = this.#file;
    if (file === undefined) throw new Error("no logfile open");
    try {
      writeAllSync(file, PROBE);
      file.syncDataSync();
    } finally {
      file.truncateSync(this.#size);
    }
    file.syncDataSync();
  }

  /** Starts copying what is written; returns the list the copies go to. */
  startTee(): Uint8Array[] {
    return this.#tee = [];
  }

  /** Stops copying into `tee`. */
  stopTee(tee: Uint8Array[]): void {
    if (this.#tee === tee) this.#tee = undefined;
  }

  /** Writes to `file`, `size` bytes long, from now on; closes the old one. */
  switchTo(file: FileLike, size: number): void {
    const old = this.#file;
    this.#file = file;
    this.#size = size;
    if (old !== undefined) closeQuietly(old);
  }

  /** Gives the file up (its unflushed pages cannot be trusted). */
  drop(): void {
    const file = this.#file;
    this.#file = undefined;
    if (file !== undefined) closeQuietly(file);
  }

  /** Fsyncs and closes the file. */
  close(): void {
    const file = this.#file;
    this.#file = undefined;
    if (file === undefined) return;
    try {
      file.syncDataSync();
    } catch (error) {
      const reason = fsReason(error);
      log.error(`logfile: cannot sync ${this.#path} at close: ${reason}`, {
        reason,
      });
    }
    closeQuietly(file);
  }
}
