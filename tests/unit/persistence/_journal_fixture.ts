/** The journal tests' fixture: a small state with undo, files that count writes and inject faults, the example logfile of persistence.md §9. */
import type { JobStatus } from "../../../src/domain/job.ts";
import type { Mutation } from "../../../src/domain/mutation.ts";
import { compareBytes, type Rule } from "../../../src/domain/rule.ts";
import { setUpLogging } from "../../../src/log.ts";
import { type FileLike } from "../../../src/persistence/files.ts";
import {
  LogfileJournal,
  type LogfileJournalOptions,
} from "../../../src/persistence/logfile_journal.ts";
import { UndoLog } from "../../../src/scheduler/undo_log.ts";
import { formatRecord, parseRecord } from "../../../src/persistence/record.ts";
import { probeMount } from "../../_helpers/fs.ts";

export const MOUNT_PROBLEM = probeMount();

// ---------------------------------------------------------------- helpers

export interface MutableJob {
  readonly id: string;
  readonly executionNs: bigint;
  status: JobStatus;
}

/** The scheduler's state in small: applies mutations and undoes them. */
export class State {
  readonly jobs = new Map<string, MutableJob>();
  readonly rules = new Map<string, Rule>();

  readonly snapshot = () => ({
    rules: this.rules.values(),
    jobs: this.jobs.values(),
  });

  /** Applies a mutation; returns its undo. */
  apply(mutation: Mutation): () => void {
    switch (mutation.kind) {
      case "set": {
        const before = this.jobs.get(mutation.job.id);
        this.jobs.set(mutation.job.id, { ...mutation.job });
        return () => restore(this.jobs, mutation.job.id, before);
      }
      case "remove": {
        const before = this.jobs.get(mutation.jobId);
        this.jobs.delete(mutation.jobId);
        return () => restore(this.jobs, mutation.jobId, before);
      }
      case "ruleSet": {
        const before = this.rules.get(mutation.rule.id);
        this.rules.set(mutation.rule.id, mutation.rule);
        return () => restore(this.rules, mutation.rule.id, before);
      }
      case "removeRule": {
        const before = this.rules.get(mutation.ruleId);
        this.rules.delete(mutation.ruleId);
        return () => restore(this.rules, mutation.ruleId, before);
      }
      case "run":
        return () => {};
    }
  }

  /** Changes a stored job's status in place, as the scheduler does. */
  transition(
    id: string,
    status: JobStatus,
  ): { mutation: Mutation; undo: () => void } {
    const job = this.jobs.get(id)!;
    const before = job.status;
    job.status = status;
    return {
      mutation: { kind: "set", job: { ...job } },
      undo: () => {
        job.status = before;
      },
    };
  }

  /** The state as compaction writes it (spec: persistence.md §7). */
  compacted(): string {
    const rules = [...this.rules.values()].sort((a, b) =>
      compareBytes(a.id, b.id)
    );
    const jobs = [...this.jobs.values()].sort((a, b) =>
      compareBytes(a.id, b.id)
    );
    return [
      ...rules.map((rule) => formatRecord({ kind: "ruleSet", rule })),
      ...jobs.map((job) => formatRecord({ kind: "set", job })),
    ].map((line) => `${line}\n`).join("");
  }
}

export function restore<T>(
  map: Map<string, T>,
  id: string,
  before: T | undefined,
): void {
  if (before === undefined) map.delete(id);
  else map.set(id, before);
}

/** Replays a logfile into a fresh state. */
export async function replay(path: string): Promise<State> {
  const state = new State();
  for (const line of (await Deno.readTextFile(path)).split("\n")) {
    const mutation = parseRecord(line);
    if (mutation !== undefined) state.apply(mutation);
  }
  return state;
}

/** Faults and counters shared by every file a test opens. */
export interface Probe {
  writes: number;
  syncs: number;
  opened: string[];
  /** Longest write accepted in one call. */
  maxWrite: number;
  failWrite?: Error | undefined;
  /** With `failWrite`: the write with this number (1-based) and later fail. */
  failAfterWrites?: number | undefined;
  failSync?: Error | undefined;
  /** Only files whose path ends so get the faults (all when unset). */
  faultySuffix?: string | undefined;
  /** Async fsyncs wait for this; an error it yields fails them. */
  syncGate?: Promise<Error | undefined> | undefined;
  /** Only files whose path ends so wait for the gate (all when unset). */
  syncGateSuffix?: string | undefined;
  /** Paths of the files async-fsynced so far, in order. */
  synced?: string[];
  /** Writes fail once the file was renamed away from its path. */
  failWriteOnceRenamed?: Error | undefined;
}

export function newProbe(): Probe {
  return { writes: 0, syncs: 0, opened: [], maxWrite: Infinity };
}

/** Wraps a real file: counts writes and syncs, injects faults. */
export class ProbedFile implements FileLike {
  constructor(
    readonly inner: Deno.FsFile,
    readonly path: string,
    readonly probe: Probe,
  ) {}

  #faulty(): boolean {
    const suffix = this.probe.faultySuffix;
    return suffix === undefined || this.path.endsWith(suffix);
  }

  #checkWrite(): void {
    const renamed = this.probe.failWriteOnceRenamed;
    if (renamed && !existsSync(this.path)) throw renamed;
    const n = ++this.probe.writes;
    const { failWrite, failAfterWrites } = this.probe;
    if (failWrite && this.#faulty() && n >= (failAfterWrites ?? 0)) {
      throw failWrite;
    }
  }

  #checkSync(): void {
    this.probe.syncs++;
    if (this.probe.failSync && this.#faulty()) throw this.probe.failSync;
  }

  write(p: Uint8Array): Promise<number> {
    try {
      this.#checkWrite();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.inner.write(p.subarray(0, this.probe.maxWrite));
  }

  writeSync(p: Uint8Array): number {
    this.#checkWrite();
    return this.inner.writeSync(p.subarray(0, this.probe.maxWrite));
  }

  async syncData(): Promise<void> {
    this.#checkSync();
    this.probe.synced?.push(this.path);
    const gated = this.probe.syncGateSuffix === undefined ||
      this.path.endsWith(this.probe.syncGateSuffix);
    const error = gated ? await this.probe.syncGate : undefined;
    if (error !== undefined) throw error;
    await this.inner.syncData();
  }

  syncDataSync(): void {
    this.#checkSync();
    this.inner.syncDataSync();
  }

  truncateSync(length: number): void {
    this.inner.truncateSync(length);
  }

  seekSync(offset: number, whence: Deno.SeekMode): number {
    return this.inner.seekSync(offset, whence);
  }

  close(): void {
    this.inner.close();
  }
}

export function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

export function probedOpen(
  probe: Probe,
): NonNullable<LogfileJournalOptions["openFile"]> {
  return async (path, options) => {
    probe.opened.push(path);
    return new ProbedFile(await Deno.open(path, options), path, probe);
  };
}

export function options(
  state: State,
  probe: Probe,
  overrides: Partial<LogfileJournalOptions> = {},
): LogfileJournalOptions {
  return {
    fsync: true,
    compactionIntervalS: 0,
    snapshot: state.snapshot,
    openFile: probedOpen(probe),
    // The counts and contents below are of records only; the zero-filled
    // extents have their own tests (logfile_prealloc_test.ts).
    preallocate: false,
    ...overrides,
  };
}

/** Undoes what a failed group changed, as the scheduler does. */
export const UNDO_LOG = new UndoLog();

/** Appends a mutation; `undo` runs if its group fails (the state's owner). */
export function appendUndoable(
  journal: LogfileJournal,
  mutation: Mutation,
  undo: () => void,
): Promise<void> {
  return UNDO_LOG.track(journal.append(mutation), undo);
}

/** Applies a mutation to the state and appends it with its undo. */
export function commit(
  journal: LogfileJournal,
  state: State,
  mutation: Mutation,
): Promise<void> {
  return appendUndoable(journal, mutation, state.apply(mutation));
}

export function setJob(
  id: string,
  executionNs: bigint,
  status: JobStatus = "planned",
): Mutation {
  return { kind: "set", job: { id, executionNs, status } };
}

export async function waitFor(
  predicate: () => boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Captures log lines of `level` and above while `fn` runs. */
export async function capturingLogs(
  fn: (lines: string[]) => Promise<void>,
): Promise<void> {
  const lines: string[] = [];
  setUpLogging("debug", (record) => {
    lines.push(
      `${record.level} ${record.message.map((part) => String(part)).join("")}`,
    );
  });
  try {
    await fn(lines);
  } finally {
    setUpLogging("off");
  }
}

export const NO_SPACE = new Error("No space left on device (os error 28)");
