/** The end of the logfile the journal appends to, and cutting it back. */
import { fsReason } from "../errors.ts";
import { closeQuietly, writeAllSync } from "../io.ts";
import { logger } from "../log.ts";
import { type FileLike, LogfileError, type OpenFile } from "./files.ts";
import { dataEnd } from "./_zero_tail.ts";

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
 * Writes groups at the end of the logfile's records, knowing where each
 * began, so a failed one can be cut off again; copies what it wrote to a
 * compaction's tee. The file may be given up (then `isOpen` is false).
 *
 * With `extent` > 0 the file is kept at least that many zero bytes longer
 * than its records, so most fsyncs write into blocks the file already has
 * (see `_zero_tail.ts`); a graceful close cuts the zeros off again.
 */
export class LogWriter {
  readonly #path: string;
  readonly #extent: number;
  #file: FileLike | undefined;
  /** Bytes of the file that hold written groups: where the next one begins. */
  #size: number;
  /** The file's length: the records, then zeros. */
  #length: number;
  /** Where the handle's next write goes; `NaN` when unknown. */
  #position = NaN;
  /** Bytes written while a compaction runs, for its temp file. */
  #tee: Uint8Array[] | undefined;

  constructor(
    path: string,
    file: FileLike,
    size: number,
    { length = size, extent = 0 }: { length?: number; extent?: number } = {},
  ) {
    this.#path = path;
    this.#file = file;
    this.#size = size;
    this.#length = length;
    this.#extent = extent;
  }

  /**
   * Opens the logfile (mode 0600 if created) to write after its records,
   * into its zero tail if it has one.
   *
   * @throws {LogfileError} when the file cannot be opened or read.
   */
  static async open(
    path: string,
    openFile: OpenFile,
    extent: number,
  ): Promise<LogWriter> {
    let file: FileLike | undefined;
    try {
      file = await openFile(path, { write: true, create: true, mode: 0o600 });
      using reader = await Deno.open(path, { read: true });
      const { size: length } = await reader.stat();
      const size = await dataEnd(reader, length);
      return new LogWriter(path, file, size, { length, extent });
    } catch (error) {
      if (file !== undefined) closeQuietly(file);
      throw new LogfileError(path, fsReason(error), { cause: error });
    }
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
   * returns where they begin (`bytes` are not kept). On failure the file
   * is cut back first.
   *
   * @throws {WriteFailure} with the write's or fsync's error
   */
  write(bytes: Uint8Array, sync: boolean): number {
    const file = this.#file;
    if (file === undefined) {
      throw new WriteFailure(new Error("no logfile open"), false);
    }
    const start = this.#size;
    const end = start + bytes.length;
    try {
      if (this.#extent > 0 && end > this.#length) this.#preallocate(file, end);
      this.#writeAt(file, start, bytes);
      if (sync) file.syncDataSync();
    } catch (error) {
      throw new WriteFailure(error, this.cutBack(start));
    }
    this.#size = end;
    this.#length = Math.max(this.#length, end);
    // A copy: the caller may reuse its buffer.
    this.#tee?.push(bytes.slice());
    return start;
  }

  #writeAt(file: FileLike, offset: number, bytes: Uint8Array): void {
    if (this.#position !== offset) {
      this.#position = NaN;
      file.seekSync(offset, Deno.SeekMode.Start);
    }
    writeAllSync(file, bytes);
    this.#position = offset + bytes.length;
  }

  /**
   * Makes the file an extent longer than `needed` with zeros. Without room
   * for them the group is written all the same (the file just grows).
   */
  #preallocate(file: FileLike, needed: number): void {
    const length = this.#length;
    try {
      this.#writeAt(
        file,
        length,
        new Uint8Array(needed + this.#extent - length),
      );
      this.#length = needed + this.#extent;
    } catch (error) {
      this.#position = NaN;
      log.debug(`logfile: cannot preallocate: ${fsReason(error)}`);
      try {
        file.truncateSync(length);
      } catch {
        // the zeros written in part stay; they are past the records
      }
    }
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
      this.#length = start;
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
      this.#writeAt(file, this.#size, PROBE);
      file.syncDataSync();
    } finally {
      this.#position = NaN;
      file.truncateSync(this.#size);
      this.#length = this.#size;
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
    this.#length = size;
    this.#position = NaN;
    if (old !== undefined) closeQuietly(old);
  }

  /** Gives the file up (its unflushed pages cannot be trusted). */
  drop(): void {
    const file = this.#file;
    this.#file = undefined;
    if (file !== undefined) closeQuietly(file);
  }

  /** Fsyncs, cuts off the zero tail and closes the file. */
  close(): void {
    const file = this.#file;
    this.#file = undefined;
    if (file === undefined) return;
    try {
      file.syncDataSync();
      if (this.#length > this.#size) file.truncateSync(this.#size);
    } catch (error) {
      const reason = fsReason(error);
      log.error(`logfile: cannot sync ${this.#path} at close: ${reason}`, {
        reason,
      });
    }
    closeQuietly(file);
  }
}
