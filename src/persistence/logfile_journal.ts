import type { Job } from "../domain/job.ts";
import type { Mutation } from "../domain/mutation.ts";
import type { Rule } from "../domain/rule.ts";
import { fsReason } from "../errors.ts";
import { closeQuietly, writeAllSync } from "../io.ts";
import { logger } from "../log.ts";
import type {
  Counter,
  Histogram,
  Journal,
  Metrics,
} from "../scheduler/ports.ts";
import { type Group, GroupBuffer } from "./_group.ts";
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
/** A failed logfile is retried about this often (spec: persistence.md §5). */
const RECOVERY_INTERVAL_MS = 1000;
/**
 * Recovery after a failed write checks for room with a comment line of one
 * page (replay ignores it, and truncates it away if torn), then cuts it off.
 */
const PROBE = new TextEncoder().encode(`#${" ".repeat(4096 - 2)}\n`);

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
  /** Counts commits, records and commit durations. */
  readonly metrics?: Metrics;
}

/** How the journal leaves read-only mode. */
type Recovery = "probe" | "rewrite";

/**
 * Appends mutations to the text logfile with group commit, goes read-only
 * when a write or fsync fails and recovers, and compacts the file
 * periodically without stalling requests (spec: persistence.md §5, §7).
 *
 * Each group is written with one synchronous `writeSync`, started in a
 * microtask after the first record of the group, so records appended in the
 * same event-loop turn share it, then fsynced with one `syncData` that runs
 * off the event loop. The records appended meanwhile form the next group:
 * one fsync in flight at a time.
 *
 * No byte of a failed group counts: the file is cut back to where the group
 * began before its appends are rejected. After a failed write (a full disk)
 * the journal stays on the same file and leaves read-only mode once a probe
 * write fits; after a failed fsync the file's unflushed pages cannot be
 * trusted, so it is rewritten from memory.
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
  /** The file appended to; `undefined` once closed or when it is lost. */
  #file: FileLike | undefined;
  /** Bytes of the file that hold written groups: where the next one begins. */
  #size: number;
  #writable = true;
  #recovery: Recovery = "probe";
  #closed = false;
  readonly #forming = new GroupBuffer();
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
  readonly #commits: Counter | undefined;
  readonly #records: Counter | undefined;
  readonly #commitSeconds: Histogram | undefined;
  readonly #flushTask = () => this.#flush();

  private constructor(
    path: string,
    file: FileLike,
    size: number,
    options: LogfileJournalOptions,
  ) {
    this.#path = path;
    this.#file = file;
    this.#size = size;
    this.#options = options;
    this.#openFile = options.openFile ?? Deno.open;
    this.#compactions = new Compactions(
      options.compactionIntervalS,
      () => void this.compact(),
    );
    this.#commits = options.metrics?.counter("journal_commits_total");
    this.#records = options.metrics?.counter("journal_records_total");
    this.#commitSeconds = options.metrics?.histogram(
      "journal_commit_duration_seconds",
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
    let size: number;
    try {
      file = await openFile(path, { append: true, create: true, mode: 0o600 });
      size = (await Deno.stat(path)).size;
    } catch (error) {
      throw new LogfileError(path, fsReason(error), { cause: error });
    }
    return new LogfileJournal(path, file, size, options);
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
    const committed = this.#forming.add(formatRecord(mutation));
    this.#scheduleFlush();
    return committed;
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
    if (this.#writable) this.#flush(true);
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
    if (!this.#forming.pending) return;
    this.#scheduled = true;
    queueMicrotask(this.#flushTask);
  }

  /** Commits the group being formed, unless one is in flight or held. */
  #flush(now = false): void {
    this.#scheduled = false;
    if (this.#syncing || this.#holding) return;
    const group = this.#forming.take();
    if (group !== undefined) this.#commit(group, now);
  }

  /**
   * One write, then one fsync, which runs off the event loop unless `now`
   * (at close). A failure cuts the file back to where the group began.
   */
  #commit(group: Group, now: boolean): void {
    const file = this.#file;
    if (file === undefined || !this.#writable) {
      group.reject(this.#error(new Error("journal is not writable")));
      return;
    }
    const start = this.#size;
    const startedMs = performance.now();
    try {
      writeAllSync(file, group.bytes);
      if (this.#options.fsync && now) file.syncDataSync();
    } catch (error) {
      this.#failed([group], start, error, "probe");
      return;
    }
    this.#size += group.bytes.length;
    this.#tee?.push(group.bytes);
    if (!this.#options.fsync || now) return this.#committed(group, startedMs);
    this.#syncing = file.syncData().then(
      () => {
        this.#syncing = undefined;
        this.#committed(group, startedMs);
        this.#scheduleFlush();
      },
      (error) => {
        this.#syncing = undefined;
        // Records appended meanwhile are newer: they are rejected first.
        const forming = this.#forming.take();
        const groups = forming === undefined ? [group] : [forming, group];
        this.#failed(groups, start, error, "rewrite");
      },
    );
  }

  #committed(group: Group, startedMs: number): void {
    this.#commits?.add();
    this.#records?.add(group.records);
    this.#commitSeconds?.observe((performance.now() - startedMs) / 1000);
    group.resolve();
  }

  /**
   * Cuts the file back to `start`, where the failed groups began, enters
   * read-only mode and rejects the groups, newest first, so their owners
   * undo them in that order. When the file cannot be cut, or after a failed
   * fsync, it is given up and recovery rewrites the state from memory.
   */
  #failed(
    groups: readonly Group[],
    start: number,
    error: unknown,
    recovery: Recovery,
  ): void {
    try {
      this.#file?.truncateSync(start);
      this.#size = start;
    } catch (truncateError) {
      log.error(
        `logfile: cannot cut ${this.#path} back to ${start} bytes: ${
          fsReason(truncateError)
        }`,
      );
      recovery = "rewrite";
    }
    this.#enterReadOnly(error, recovery);
    for (const group of groups) group.reject(this.#error(error));
  }

  #error(error: unknown): Error {
    return new Error(
      `Cannot write logfile "${this.#path}": ${fsReason(error)}`,
      { cause: error },
    );
  }

  /** Refuses mutations until recovery succeeds (spec: persistence.md §5). */
  #enterReadOnly(error: unknown, recovery: Recovery): void {
    this.#writable = false;
    this.#failures++;
    if (recovery === "rewrite") {
      this.#recovery = "rewrite";
      const file = this.#file;
      this.#file = undefined;
      if (file !== undefined) closeQuietly(file);
    }
    const until = this.#recovery === "rewrite"
      ? "it is rewritten"
      : "there is room again";
    log.error(
      `logfile: write to ${this.#path} failed, read-only until ${until}: ${
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
      if (this.#recovery === "rewrite") await this.#rewrite(false);
      else this.#probe();
      this.#writable = true;
      this.#recovery = "probe";
      this.#lastRecoveryError = "";
      log.warn(`logfile: recovered, writable again`);
      this.#scheduleFlush();
    } catch (error) {
      const reason = fsReason(error);
      const line = `logfile: recovery failed, still read-only: ${reason}`;
      if (reason !== this.#lastRecoveryError) log.warn(line);
      else log.debug(line);
      this.#lastRecoveryError = reason;
      this.#scheduleRecovery();
    }
  }

  /** Writes and fsyncs a comment line of one page, then cuts it off again. */
  #probe(): void {
    const file = this.#file!;
    try {
      writeAllSync(file, PROBE);
      file.syncDataSync();
    } finally {
      file.truncateSync(this.#size);
    }
    file.syncDataSync();
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
      quiesce: () => this.#quiesce(check),
      switchTo: (file, size) => {
        const old = this.#file;
        this.#file = file;
        this.#size = size;
        if (old !== undefined) closeQuietly(old);
      },
      lost: (error) => this.#enterReadOnly(error, "rewrite"),
      release: () => {
        this.#holding = false;
        this.#scheduleFlush();
      },
    };
  }

  /**
   * Holds new groups until the files are switched. Every record appended
   * before now may be in the snapshot, so its group is committed to the old
   * file (and the tee) first: a group that failed must not survive in the
   * new file (a failure aborts the rewrite through `check`).
   */
  async #quiesce(check: () => void): Promise<void> {
    this.#holding = true;
    const snapshotted = this.#forming.current;
    while (this.#syncing !== undefined) await this.#syncing;
    check();
    if (snapshotted !== undefined && this.#forming.current === snapshotted) {
      this.#commit(this.#forming.take()!, false);
      while (this.#syncing !== undefined) await this.#syncing;
      check();
    }
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
