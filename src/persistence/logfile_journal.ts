import { dirname } from "node:path";
import type { Job } from "../domain/job.ts";
import type { Mutation } from "../domain/mutation.ts";
import { compareBytes, type Rule } from "../domain/rule.ts";
import { logger } from "../log.ts";
import type { Journal } from "../scheduler/ports.ts";
import { formatRecord } from "./record.ts";
import { fsReason } from "../errors.ts";
import { closeQuietly, concat, totalLength, writeAll } from "../io.ts";

const log = logger("logfile");
const ENCODER = new TextEncoder();
/** A failed logfile is rewritten about this often (spec: persistence.md §5). */
const RECOVERY_INTERVAL_MS = 1000;
/** Longer `setTimeout` delays fire at once, so long waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Compaction gives the event loop back after at most about this long. */
const SLICE_MS = 5;
/** Items sorted in one go; sorting 10k ids takes a few milliseconds. */
const RUN_LENGTH = 10_000;
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
/** Pieces of a UTF-16 string that are not in UTF-8 byte order. */
const SURROGATE = /[\uD800-\uDFFF]/;

/** The file operations the journal uses; `Deno.FsFile` has them all. */
export interface FileLike {
  write(p: Uint8Array): Promise<number>;
  writeSync(p: Uint8Array): number;
  syncData(): Promise<void>;
  syncDataSync(): void;
  close(): void;
}

/** What a logfile journal needs besides its path. */
export interface LogfileJournalOptions {
  /** `[database] fsync_on_persist`: each group is fsynced before it resolves. */
  readonly fsync: boolean;
  /** Seconds between compactions; `0` disables them. */
  readonly compactionIntervalS: number;
  /**
   * Live views of the state at the moment of the call. Items may be mutable
   * objects: each is read when its line is written, and what changed since
   * the compaction began follows in records appended after the snapshot.
   */
  readonly snapshot: () => { rules: Iterable<Rule>; jobs: Iterable<Job> };
  /** Opens a file; tests wrap the handle to inject write and sync faults. */
  readonly openFile?: (
    path: string,
    options: Deno.OpenOptions,
  ) => Promise<FileLike>;
}

/** STAT `compression` (spec: protocol.md §6, persistence.md §7). */
export type CompressionState = "idle" | "running" | "success" | "failure";

/**
 * The logfile or its directory cannot be opened; startup fails with this
 * message (spec: configuration.md §4).
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
 * Appends mutations to the text logfile with group commit, goes read-only
 * when a write or fsync fails and recovers by rewriting the live state, and
 * compacts the file periodically without stalling requests
 * (spec: persistence.md §5, §7).
 *
 * Each group is written with one synchronous `writeSync`, started in a
 * microtask after the first record of the group, so records appended in the
 * same event-loop turn share it, then fsynced with one `syncData` that runs
 * off the event loop. While that fsync runs, the loop keeps serving and the
 * records appended meanwhile form the next group, written as soon as the
 * fsync ends: one fsync in flight at a time, carrying everything that
 * arrived during the previous one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LogfileJournal } from "./logfile_journal.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/logfile`;
 * {
 *   await using journal = await LogfileJournal.open(path, {
 *     fsync: true,
 *     compactionIntervalS: 0,
 *     snapshot: () => ({ rules: [], jobs: [] }),
 *   });
 *   await journal.append({
 *     kind: "set",
 *     job: { id: "backup.daily", executionNs: 1775008800000000000n, status: "planned" },
 *   });
 * }
 * assert.equal(
 *   await Deno.readTextFile(path),
 *   "SET backup.daily 1775008800000000000 planned\n",
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class LogfileJournal implements Journal, AsyncDisposable {
  readonly #path: string;
  readonly #options: LogfileJournalOptions;
  readonly #openFile: (
    path: string,
    options: Deno.OpenOptions,
  ) => Promise<FileLike>;
  /** The file appended to; `undefined` while read-only or once closed. */
  #file: FileLike | undefined;
  #writable = true;
  #closed = false;
  /** The group being formed: its lines, its undos, its shared promise. */
  #lines: string[] = [];
  #undos: (() => void)[] = [];
  #group: PromiseWithResolvers<void> | undefined;
  #scheduled = false;
  /** Settles when the fsync in flight ends; `undefined` when none runs. */
  #syncing: Promise<void> | undefined;
  /** Set while a rewrite switches files: groups wait until it is done. */
  #holding = false;
  /** Bytes committed while a compaction runs, for its temp file. */
  #tee: Uint8Array[] | undefined;
  #compression: CompressionState = "idle";
  /** The compaction or recovery in progress; only one at a time. */
  #rewriting: Promise<void> | undefined;
  /** Counts write failures, so a compaction notices one that happened. */
  #failures = 0;
  #compactionTimer: ReturnType<typeof setTimeout> | undefined;
  #nextCompactionMs = 0;
  #recoveryTimer: ReturnType<typeof setTimeout> | undefined;
  #lastRecoveryError = "";
  readonly #flushTask = () => this.#flush();

  private constructor(
    path: string,
    file: FileLike,
    options: LogfileJournalOptions,
  ) {
    this.#path = path;
    this.#file = file;
    this.#options = options;
    this.#openFile = options.openFile ?? Deno.open;
    if (options.compactionIntervalS > 0) {
      this.#nextCompactionMs = performance.now() +
        options.compactionIntervalS * 1000;
      this.#armCompaction();
    }
  }

  /**
   * Opens `path` for appending, creating it with mode 0600; replay has already
   * read and repaired it (spec: persistence.md §6).
   *
   * @throws {LogfileError} when the file cannot be opened.
   */
  static async open(
    path: string,
    options: LogfileJournalOptions,
  ): Promise<LogfileJournal> {
    const openFile = options.openFile ?? Deno.open;
    let file: FileLike;
    try {
      file = await openFile(path, { append: true, create: true, mode: 0o600 });
    } catch (error) {
      throw new LogfileError(path, fsReason(error), { cause: error });
    }
    return new LogfileJournal(path, file, options);
  }

  /** `false` in read-only mode, after a failed write or fsync. */
  get writable(): boolean {
    return this.#writable;
  }

  /** Where the last compaction got: `idle` before the first one. */
  get compression(): CompressionState {
    return this.#compression;
  }

  /**
   * Queues a record; resolves once its group is written (and fsynced). The
   * appends of one group share one promise. In read-only mode, or once
   * closed, `undo` runs at once and the promise rejects.
   */
  append(mutation: Mutation, undo?: () => void): Promise<void> {
    if (!this.#writable || this.#closed) {
      if (undo !== undefined) runUndos([undo]);
      const state = this.#closed
        ? "journal is closed"
        : "read-only after a write failure";
      return Promise.reject(
        new Error(`Cannot write logfile "${this.#path}": ${state}`),
      );
    }
    this.#lines.push(formatRecord(mutation));
    if (undo !== undefined) this.#undos.push(undo);
    const group = this.#group ??= Promise.withResolvers<void>();
    this.#scheduleFlush();
    return group.promise;
  }

  /** Flushes in a microtask, unless an fsync or a file switch is under way. */
  #scheduleFlush(): void {
    if (this.#scheduled || this.#syncing || this.#holding) return;
    if (this.#lines.length === 0) return;
    this.#scheduled = true;
    queueMicrotask(this.#flushTask);
  }

  /**
   * Rewrites the logfile to hold only the live state (spec: persistence.md
   * §7). Never rejects: the outcome shows in `compression` and the log.
   * Skipped while another compaction or a recovery runs, in read-only mode,
   * and once closed.
   */
  async compact(): Promise<void> {
    if (this.#rewriting !== undefined || !this.#writable || this.#closed) {
      return;
    }
    this.#compression = "running";
    const startedMs = performance.now();
    const rewrite = this.#rewrite(true);
    this.#rewriting = rewrite.then(() => {}, () => {});
    try {
      const { rules, jobs, bytes } = await rewrite;
      this.#compression = "success";
      const ms = Math.round(performance.now() - startedMs);
      log.info(
        `logfile: compacted to ${rules} rules, ${jobs} jobs, ${bytes} bytes in ${ms} ms`,
      );
    } catch (error) {
      this.#compression = "failure";
      if (this.#closed) {
        log.debug(`logfile: compaction abandoned: ${fsReason(error)}`);
      } else {
        log.warn(`logfile: compaction failed: ${fsReason(error)}`);
      }
    } finally {
      this.#rewriting = undefined;
    }
  }

  /**
   * Writes what is queued, fsyncs, stops the timers and closes the file;
   * a running compaction is abandoned and its temp file removed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#compactionTimer);
    clearTimeout(this.#recoveryTimer);
    await this.#rewriting;
    while (this.#syncing !== undefined) await this.#syncing;
    this.#flush(true);
    const file = this.#file;
    this.#file = undefined;
    if (file === undefined) return;
    try {
      file.syncDataSync();
    } catch (error) {
      log.error(
        `logfile: cannot sync ${this.#path} at close: ${fsReason(error)}`,
      );
    }
    closeQuietly(file);
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Commits the group being formed: one write, then one fsync, which runs
   * off the event loop unless `now` (at close).
   */
  #flush(now = false): void {
    this.#scheduled = false;
    if (this.#syncing || this.#holding) return;
    const group = this.#takeGroup();
    if (group === undefined) return;
    const file = this.#file;
    if (file === undefined) {
      this.#fail([group], new Error("journal is closed"));
      return;
    }
    const bytes = ENCODER.encode(group.text);
    try {
      writeAllSync(file, bytes);
      if (this.#options.fsync && now) file.syncDataSync();
    } catch (error) {
      this.#enterReadOnly(error);
      this.#fail([group], error);
      return;
    }
    this.#tee?.push(bytes);
    if (!this.#options.fsync || now) {
      group.resolve();
      return;
    }
    this.#syncing = file.syncData().then(
      () => {
        this.#syncing = undefined;
        group.resolve();
        this.#scheduleFlush();
      },
      (error) => {
        this.#syncing = undefined;
        // Records appended meanwhile are newer: they are undone first.
        const forming = this.#takeGroup();
        this.#enterReadOnly(error);
        this.#fail(forming === undefined ? [group] : [forming, group], error);
      },
    );
  }

  /** Takes the group being formed, with its lines joined. */
  #takeGroup(): Group | undefined {
    const lines = this.#lines;
    const group = this.#group;
    if (lines.length === 0 || group === undefined) return undefined;
    const undos = this.#undos;
    this.#lines = [];
    this.#undos = [];
    this.#group = undefined;
    lines.push(""); // one join gives the final LF
    return {
      text: lines.join("\n"),
      undos,
      resolve: group.resolve,
      reject: group.reject,
    };
  }

  /** Undoes failed groups, newest first, and rejects them. */
  #fail(groups: readonly Group[], error: unknown): void {
    for (const group of groups) {
      runUndos(group.undos);
      group.reject(
        new Error(`Cannot write logfile "${this.#path}": ${fsReason(error)}`, {
          cause: error,
        }),
      );
    }
  }

  /**
   * Stops appending: after a failed fsync the old file's unflushed pages
   * cannot be trusted (spec: persistence.md §5).
   */
  #enterReadOnly(error: unknown): void {
    this.#writable = false;
    this.#failures++;
    const file = this.#file;
    this.#file = undefined;
    if (file !== undefined) closeQuietly(file);
    log.error(
      `logfile: write to ${this.#path} failed, read-only until it is rewritten: ${
        fsReason(error)
      }`,
    );
    this.#scheduleRecovery();
  }

  #scheduleRecovery(): void {
    if (this.#closed || this.#recoveryTimer !== undefined) return;
    const timer = setTimeout(() => {
      this.#recoveryTimer = undefined;
      this.#recover().catch((error) => {
        log.error(`logfile: recovery crashed: ${fsReason(error)}`);
      });
    }, RECOVERY_INTERVAL_MS);
    Deno.unrefTimer(timer);
    this.#recoveryTimer = timer;
  }

  async #recover(): Promise<void> {
    if (this.#closed || this.#writable) return;
    if (this.#rewriting !== undefined) {
      this.#scheduleRecovery();
      return;
    }
    const rewrite = this.#rewrite(false);
    this.#rewriting = rewrite.then(() => {}, () => {});
    try {
      await rewrite;
      this.#writable = true;
      this.#lastRecoveryError = "";
      log.warn(`logfile: recovered, writable again`);
    } catch (error) {
      const reason = fsReason(error);
      if (reason !== this.#lastRecoveryError) {
        log.warn(`logfile: recovery failed, still read-only: ${reason}`);
      } else {
        log.debug(`logfile: recovery failed, still read-only: ${reason}`);
      }
      this.#lastRecoveryError = reason;
      this.#scheduleRecovery();
    } finally {
      this.#rewriting = undefined;
    }
  }

  /**
   * Writes the live state to `<path>.compact`, adds what was committed
   * meanwhile (`tee`), fsyncs it, renames it over the logfile, fsyncs the
   * directory and appends to it from then on. The last steps run
   * synchronously, so no group lands in between.
   */
  async #rewrite(tee: boolean): Promise<RewriteStats> {
    const failures = this.#failures;
    const check = () => {
      if (this.#closed) throw new Error("journal closed");
      if (this.#failures !== failures) {
        throw new Error("a logfile write failed meanwhile");
      }
    };
    const tempPath = `${this.#path}.compact`;
    await removeIfPresent(tempPath);
    const temp = await this.#openFile(tempPath, {
      append: true,
      createNew: true,
      mode: 0o600,
    });
    let renamed = false;
    try {
      if (tee) this.#tee = [];
      const writer = new ChunkWriter(temp);
      const pace = new Pace();
      const { rules, jobs } = this.#options.snapshot();
      const ruleCount = await writeSorted(rules, ruleLine, writer, pace, check);
      const jobCount = await writeSorted(jobs, jobLine, writer, pace, check);
      await writer.flush();
      check();
      while (this.#tee !== undefined && this.#tee.length > 0) {
        const parts = this.#tee.splice(0);
        await writeAll(temp, concat(parts));
        check();
      }
      await temp.syncData();
      check();
      // No group may be written from here until the files are switched, and
      // the fsync in flight on the old file must end first.
      this.#holding = true;
      while (this.#syncing !== undefined) {
        await this.#syncing;
        check();
      }
      // From here on nothing yields: committed groups cannot slip between
      // the last tee bytes and the switch of files.
      const rest = this.#tee === undefined ? [] : this.#tee.splice(0);
      this.#tee = undefined;
      if (rest.length > 0) {
        writeAllSync(temp, concat(rest));
        temp.syncDataSync();
      }
      Deno.renameSync(tempPath, this.#path);
      renamed = true;
      const old = this.#file;
      this.#file = temp;
      if (old !== undefined) closeQuietly(old);
      try {
        syncDirectorySync(dirname(this.#path));
      } catch (error) {
        // The rename may not be durable: appends could vanish in a crash.
        this.#enterReadOnly(error);
        throw error;
      }
      return {
        rules: ruleCount,
        jobs: jobCount,
        bytes: writer.bytes + totalLength(rest),
      };
    } catch (error) {
      if (!renamed) {
        closeQuietly(temp);
        await removeIfPresent(tempPath).catch(() => {});
      }
      throw error;
    } finally {
      this.#tee = undefined;
      this.#holding = false;
      this.#scheduleFlush();
    }
  }

  #armCompaction(): void {
    const delayMs = Math.max(0, this.#nextCompactionMs - performance.now());
    const timer = setTimeout(
      () => this.#onCompactionTimer(),
      Math.min(delayMs, MAX_TIMER_MS),
    );
    Deno.unrefTimer(timer);
    this.#compactionTimer = timer;
  }

  #onCompactionTimer(): void {
    this.#compactionTimer = undefined;
    if (this.#closed) return;
    const nowMs = performance.now();
    if (nowMs >= this.#nextCompactionMs) {
      const intervalMs = this.#options.compactionIntervalS * 1000;
      // A cycle that finds one still running is skipped (spec: §7).
      while (this.#nextCompactionMs <= nowMs) {
        this.#nextCompactionMs += intervalMs;
      }
      void this.compact();
    }
    this.#armCompaction();
  }
}

/** A group taken for writing: its text, its undos, how to settle it. */
interface Group {
  readonly text: string;
  readonly undos: (() => void)[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface RewriteStats {
  readonly rules: number;
  readonly jobs: number;
  readonly bytes: number;
}

/** A snapshot item; its id is the sort key. */
interface Entry {
  readonly id: string;
}

function ruleLine(rule: Rule): string {
  return formatRecord({ kind: "ruleSet", rule });
}

function jobLine(job: Job): string {
  return formatRecord({ kind: "set", job });
}

/** A sorted run of entries; `wide` runs need the slow byte-order compare. */
interface Run<T extends Entry> {
  readonly entries: T[];
  readonly wide: boolean;
  /** Rank in taking order: breaks ties between equal ids. */
  readonly rank: number;
  position: number;
}

function compareIds(a: string, b: string, wide: boolean): number {
  if (wide) return compareBytes(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Writes items as lines sorted by id in byte order, yielding to the event
 * loop often: runs of `RUN_LENGTH` items are taken and sorted one by one, then
 * merged. An item is written as it is when its line is written; the records
 * committed meanwhile follow in the tee, so the file replays to the state
 * either way. An id met twice (deleted and re-added during the walk) keeps
 * its later version. Returns the number of lines written.
 */
async function writeSorted<T extends Entry>(
  items: Iterable<T>,
  line: (item: T) => string,
  writer: ChunkWriter,
  pace: Pace,
  check: () => void,
): Promise<number> {
  const runs: Run<T>[] = [];
  const iterator = items[Symbol.iterator]();
  for (let done = false; !done;) {
    const entries: T[] = [];
    let wide = false;
    while (entries.length < RUN_LENGTH) {
      const next = iterator.next();
      if (next.done) {
        done = true;
        break;
      }
      const entry = next.value;
      if (!wide && SURROGATE.test(entry.id)) wide = true;
      entries.push(entry);
    }
    if (entries.length === 0) break;
    // Array sort is stable: equal ids stay in the order they were taken.
    entries.sort((a, b) => compareIds(a.id, b.id, wide));
    runs.push({ entries, wide, rank: runs.length, position: 0 });
    await pace.yield();
    check();
  }
  const heap = new RunHeap(runs);
  let previous: T | undefined;
  let count = 0;
  for (let entry = heap.pop(); entry !== undefined; entry = heap.pop()) {
    if (previous !== undefined && previous.id !== entry.id) {
      writer.add(line(previous));
      count++;
      if (writer.isFull) {
        await writer.flush();
        check();
      }
      if ((count & 255) === 0 && pace.isDue()) {
        await pace.yield();
        check();
      }
    }
    previous = entry;
  }
  if (previous !== undefined) {
    writer.add(line(previous));
    count++;
  }
  return count;
}

/** A min-heap of runs keyed by their current entry; ties favour earlier runs. */
class RunHeap<T extends Entry> {
  readonly #heap: Run<T>[] = [];

  constructor(runs: readonly Run<T>[]) {
    for (const run of runs) this.#push(run);
  }

  pop(): T | undefined {
    const top = this.#heap[0];
    if (top === undefined) return undefined;
    const entry = top.entries[top.position++]!;
    if (top.position < top.entries.length) {
      this.#down(0);
    } else {
      const last = this.#heap.pop()!;
      if (this.#heap.length > 0) {
        this.#heap[0] = last;
        this.#down(0);
      }
    }
    return entry;
  }

  #less(a: Run<T>, b: Run<T>): boolean {
    const c = compareIds(
      a.entries[a.position]!.id,
      b.entries[b.position]!.id,
      a.wide || b.wide,
    );
    return c < 0 || (c === 0 && a.rank < b.rank);
  }

  #push(run: Run<T>): void {
    const heap = this.#heap;
    let i = heap.push(run) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #down(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && this.#less(heap[left]!, heap[least]!)) {
        least = left;
      }
      if (right < heap.length && this.#less(heap[right]!, heap[least]!)) {
        least = right;
      }
      if (least === i) return;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
  }
}

/**
 * Encodes lines straight into one reused buffer and writes it in large
 * pieces: no string per piece and no array of lines, which kept the young
 * generation busy copying survivors during a compaction.
 */
class ChunkWriter {
  readonly #file: FileLike;
  #buffer = new Uint8Array(WRITE_CHUNK_BYTES + SPARE_BYTES);
  #used = 0;
  #unsynced = 0;
  bytes = 0;

  constructor(file: FileLike) {
    this.#file = file;
  }

  get isFull(): boolean {
    return this.#used >= WRITE_CHUNK_BYTES;
  }

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

/** Tells when to give the event loop back, and does it. */
class Pace {
  #sinceMs = performance.now();

  isDue(): boolean {
    return performance.now() - this.#sinceMs >= SLICE_MS;
  }

  async yield(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.#sinceMs = performance.now();
  }
}

function writeAllSync(file: FileLike, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length;) {
    offset += file.writeSync(bytes.subarray(offset));
  }
}

/** Runs undo callbacks newest first; one that throws does not stop the rest. */
function runUndos(undos: readonly (() => void)[]): void {
  for (let i = undos.length - 1; i >= 0; i--) {
    try {
      undos[i]!();
    } catch (error) {
      log.error(
        `logfile: undo of an uncommitted record failed: ${fsReason(error)}`,
      );
    }
  }
}

function syncDirectorySync(path: string): void {
  const directory = Deno.openSync(path, { read: true });
  try {
    directory.syncSync();
  } finally {
    directory.close();
  }
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
