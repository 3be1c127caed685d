import type { Job } from "../domain/job.ts";
import type { Mutation } from "../domain/mutation.ts";
import type { Rule } from "../domain/rule.ts";
import { fsReason } from "../errors.ts";
import { closeQuietly, writeAllSync } from "../io.ts";
import { logger } from "../log.ts";
import type { Journal } from "../scheduler/ports.ts";
import {
  Compactions,
  type CompactionState,
  rewriteLogfile,
  type RewriteSite,
  type RewriteStats,
  type Tee,
} from "./compaction.ts";
import { type FileLike, LogfileError, type OpenFile } from "./files.ts";
import { formatRecord } from "./record.ts";

const log = logger("logfile");
const ENCODER = new TextEncoder();
/** A failed logfile is rewritten about this often (spec: persistence.md §5). */
const RECOVERY_INTERVAL_MS = 1000;

/** What a logfile journal needs besides its path. */
export interface LogfileJournalOptions {
  /** `[database] fsync_on_persist`: each group is fsynced before it resolves. */
  readonly fsync: boolean;
  /** Seconds between compactions; `0` disables them. */
  readonly compactionIntervalS: number;
  /** Live views of the state at the moment of the call (see RewriteSite). */
  readonly snapshot: () => { rules: Iterable<Rule>; jobs: Iterable<Job> };
  /** Opens a file; tests wrap the handle to inject write and sync faults. */
  readonly openFile?: OpenFile;
}

/** A group taken for writing: its text and how to settle it. */
interface Group {
  readonly text: string;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
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
  readonly #openFile: OpenFile;
  /** The file appended to; `undefined` while read-only or once closed. */
  #file: FileLike | undefined;
  #writable = true;
  #closed = false;
  /** The group being formed: its lines and its shared promise. */
  #lines: string[] = [];
  #group: PromiseWithResolvers<void> | undefined;
  #scheduled = false;
  /** Settles when the fsync in flight ends; `undefined` when none runs. */
  #syncing: Promise<void> | undefined;
  /** Set while a rewrite switches files: groups wait until it is done. */
  #holding = false;
  /** Bytes committed while a compaction runs, for its temp file. */
  #tee: Uint8Array[] | undefined;
  /** The compaction or recovery in progress; only one at a time. */
  #rewriting: Promise<void> | undefined;
  /** Counts write failures, so a rewrite notices one that happened. */
  #failures = 0;
  readonly #compactions: Compactions;
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
    this.#compactions = new Compactions(
      options.compactionIntervalS,
      () => void this.compact(),
    );
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

  /** Where the last compaction got (STAT `compression`): `idle` before one. */
  get compaction(): CompactionState {
    return this.#compactions.state;
  }

  /**
   * Queues a record; resolves once its group is written (and fsynced). The
   * appends of one group share one promise. In read-only mode, or once
   * closed, the promise rejects at once.
   */
  append(mutation: Mutation): Promise<void> {
    if (!this.#writable || this.#closed) {
      const state = this.#closed
        ? "journal is closed"
        : "read-only after a write failure";
      return Promise.reject(
        new Error(`Cannot write logfile "${this.#path}": ${state}`),
      );
    }
    this.#lines.push(formatRecord(mutation));
    const group = this.#group ??= Promise.withResolvers<void>();
    this.#scheduleFlush();
    return group.promise;
  }

  /**
   * Rewrites the logfile to hold only the live state (spec: persistence.md
   * §7). Never rejects: the outcome shows in `compaction` and the log.
   * Skipped while another compaction or a recovery runs, in read-only mode,
   * and once closed.
   */
  async compact(): Promise<void> {
    if (this.#rewriting !== undefined || !this.#writable || this.#closed) {
      return;
    }
    await this.#compactions.run(() => this.#rewrite(true), () => this.#closed);
  }

  /**
   * Writes what is queued, fsyncs, stops the timers and closes the file;
   * a running compaction is abandoned and its temp file removed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#compactions.stop();
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

  /** Flushes in a microtask, unless an fsync or a file switch is under way. */
  #scheduleFlush(): void {
    if (this.#scheduled || this.#syncing || this.#holding) return;
    if (this.#lines.length === 0) return;
    this.#scheduled = true;
    queueMicrotask(this.#flushTask);
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
        // Records appended meanwhile are newer: they are rejected first.
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
    this.#lines = [];
    this.#group = undefined;
    lines.push(""); // one join gives the final LF
    return {
      text: lines.join("\n"),
      resolve: group.resolve,
      reject: group.reject,
    };
  }

  /** Rejects failed groups, newest first, so their owners undo them so. */
  #fail(groups: readonly Group[], error: unknown): void {
    const reason = `Cannot write logfile "${this.#path}": ${fsReason(error)}`;
    for (const group of groups) {
      group.reject(new Error(reason, { cause: error }));
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
    try {
      await this.#rewrite(false);
      this.#writable = true;
      this.#lastRecoveryError = "";
      log.warn(`logfile: recovered, writable again`);
    } catch (error) {
      const reason = fsReason(error);
      const line = `logfile: recovery failed, still read-only: ${reason}`;
      if (reason !== this.#lastRecoveryError) log.warn(line);
      else log.debug(line);
      this.#lastRecoveryError = reason;
      this.#scheduleRecovery();
    }
  }

  /** Runs one compaction or recovery rewrite, the only one at a time. */
  async #rewrite(tee: boolean): Promise<RewriteStats> {
    const rewrite = rewriteLogfile(this.#site(tee));
    this.#rewriting = rewrite.then(() => {}, () => {});
    try {
      return await rewrite;
    } finally {
      this.#rewriting = undefined;
    }
  }

  /** What a rewrite may do to this journal. */
  #site(teeing: boolean): RewriteSite {
    const failures = this.#failures;
    const check = () => {
      if (this.#closed) throw new Error("journal closed");
      if (this.#failures !== failures) {
        throw new Error("a logfile write failed meanwhile");
      }
    };
    return {
      path: this.#path,
      openFile: this.#openFile,
      snapshot: this.#options.snapshot,
      tee: () => teeing ? this.#startTee() : undefined,
      check,
      quiesce: async () => {
        // No group may be written until the files are switched, and the
        // fsync in flight on the old file must end first.
        this.#holding = true;
        while (this.#syncing !== undefined) await this.#syncing;
        check();
      },
      switchTo: (file) => {
        const old = this.#file;
        this.#file = file;
        if (old !== undefined) closeQuietly(old);
      },
      lost: (error) => this.#enterReadOnly(error),
      release: () => {
        this.#holding = false;
        this.#scheduleFlush();
      },
    };
  }

  #startTee(): Tee {
    const parts: Uint8Array[] = [];
    this.#tee = parts;
    return {
      take: () => parts.splice(0),
      stop: () => {
        if (this.#tee === parts) this.#tee = undefined;
      },
    };
  }
}
