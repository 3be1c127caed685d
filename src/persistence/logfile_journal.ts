import type { Mutation } from "../domain/mutation.ts";
import { fsReason } from "../errors.ts";
import { logger } from "../log.ts";
import type {
  Counter,
  Histogram,
  Journal,
  Metrics,
} from "../scheduler/ports.ts";
import { type Group, GroupBuffer } from "./_group.ts";
import { LogWriter, WriteFailure } from "./_log_writer.ts";
import {
  Compactions,
  type CompactionState,
  rewriteLogfile,
  type RewriteSite,
  type RewriteStats,
  type Snapshot,
  type Tee,
} from "./compaction.ts";
import type { OpenFile } from "./files.ts";
import { formatRecord } from "./record.ts";
import { EXTENT_BYTES } from "./_zero_tail.ts";

const log = logger("logfile");
/** A failed logfile is retried about this often (spec: persistence.md §5). */
const RECOVERY_INTERVAL_MS = 1000;

/** What a logfile journal needs besides its path. */
export interface LogfileJournalOptions {
  /** `[database] fsync_on_persist`: each group is fsynced before it resolves. */
  readonly fsync: boolean;
  /** Seconds between compactions; `0` disables them. */
  readonly compactionIntervalS: number;
  /** Live views of the state at the moment of the call (see RewriteSite). */
  readonly snapshot: () => Snapshot;
  /** Opens a file; tests wrap the handle to inject write and sync faults. */
  readonly openFile?: OpenFile;
  /** Counts commits, records and commit durations. */
  readonly metrics?: Metrics;
  /** `false`: no zero-filled extents even with fsync on (tests). */
  readonly preallocate?: boolean;
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
 * const path = `${await Deno.makeTempDir()}/logfile`;
 * const snapshot = () => ({ rules: [], jobs: [] });
 * const journal = await LogfileJournal.open(path, { fsync: true, compactionIntervalS: 0, snapshot });
 * await journal.append({ kind: "remove", jobId: "backup.daily" });
 * await journal.close();
 * assert.equal(await Deno.readTextFile(path), "REMOVE backup.daily\n");
 * ```
 */
export class LogfileJournal implements Journal, AsyncDisposable {
  readonly #path: string;
  readonly #options: LogfileJournalOptions;
  readonly #openFile: OpenFile;
  readonly #writer: LogWriter;
  #writable = true;
  #recovery: Recovery = "probe";
  #closed = false;
  readonly #forming = new GroupBuffer();
  #scheduled = false;
  /** Settles when the fsync in flight ends; `undefined` when none runs. */
  #syncing: Promise<void> | undefined;
  /** Set while a rewrite switches files: groups wait until it is done. */
  #holding = false;
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
    writer: LogWriter,
    options: LogfileJournalOptions,
  ) {
    this.#path = path;
    this.#writer = writer;
    this.#options = options;
    this.#openFile = options.openFile ?? Deno.open;
    this.#compactions = new Compactions(
      options.compactionIntervalS,
      () => void this.compact(),
      options.metrics,
    );
    this.#commits = options.metrics?.counter("journal_commits_total");
    this.#records = options.metrics?.counter("journal_records_total");
    this.#commitSeconds = options.metrics?.histogram(
      "journal_commit_duration_seconds",
    );
  }

  /**
   * Opens `path` to append after its records, creating it with mode 0600;
   * replay has already read and repaired it (spec: persistence.md §6). With
   * fsync on (unless `preallocate` is false) the file grows in zero-filled
   * extents ahead of its records (see `_zero_tail.ts`).
   *
   * @throws {LogfileError} when the file cannot be opened.
   */
  static async open(
    path: string,
    options: LogfileJournalOptions,
  ): Promise<LogfileJournal> {
    const { fsync, preallocate, openFile = Deno.open } = options;
    const extent = fsync && preallocate !== false ? EXTENT_BYTES : 0;
    const writer = await LogWriter.open(path, openFile, extent);
    return new LogfileJournal(path, writer, options);
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
    this.#writer.close();
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
    const startedMs = performance.now();
    const fsync = this.#options.fsync;
    let start: number;
    try {
      start = this.#writer.write(group.bytes, fsync && now);
    } catch (error) {
      if (!(error instanceof WriteFailure)) throw error;
      this.#failed([group], error.cause, error.cut ? "probe" : "rewrite");
      return;
    }
    if (!fsync || now) return this.#committed(group, startedMs);
    this.#syncing = this.#writer.syncData().then(
      () => {
        this.#syncing = undefined;
        this.#committed(group, startedMs);
        this.#scheduleFlush();
      },
      (error) => {
        this.#syncing = undefined;
        this.#writer.cutBack(start);
        // Records appended meanwhile are newer: they are rejected first.
        const forming = this.#forming.take();
        const groups = forming === undefined ? [group] : [forming, group];
        this.#failed(groups, error, "rewrite");
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
   * Enters read-only mode and rejects the failed groups (already cut off
   * the file), newest first, so their owners undo them in that order. After
   * a failed fsync, or when the file could not be cut back, the file is given
   * up and recovery rewrites the state from memory.
   */
  #failed(groups: readonly Group[], error: unknown, recovery: Recovery): void {
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
      this.#writer.drop();
    }
    const until = this.#recovery === "rewrite"
      ? "it is rewritten"
      : "there is room again";
    const reason = fsReason(error);
    log.error(
      `logfile: write to ${this.#path} failed, read-only until ${until}: ${reason}`,
      { reason },
    );
    this.#scheduleRecovery();
  }

  #scheduleRecovery(): void {
    if (this.#closed || this.#recoveryTimer !== undefined) return;
    const timer = setTimeout(() => {
      this.#recoveryTimer = undefined;
      this.#recover().catch((error) => {
        const reason = fsReason(error);
        log.error(`logfile: recovery crashed: ${reason}`, { reason });
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
      else this.#writer.probe();
      this.#writable = true;
      this.#recovery = "probe";
      this.#lastRecoveryError = "";
      log.warn(`logfile: recovered, writable again`);
      this.#scheduleFlush();
    } catch (error) {
      const reason = fsReason(error);
      const line = `logfile: recovery failed, still read-only: ${reason}`;
      if (reason !== this.#lastRecoveryError) log.warn(line, { reason });
      else log.debug(line, { reason });
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
      quiesce: () => this.#quiesce(check),
      switchTo: (file, size) => this.#writer.switchTo(file, size),
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
    const parts = this.#writer.startTee();
    return {
      take: () => parts.splice(0),
      stop: () => this.#writer.stopTee(parts),
    };
  }
}
