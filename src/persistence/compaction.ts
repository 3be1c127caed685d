/**
 * Rewriting the logfile to hold only the live state: the snapshot written
 * to `<logfile>.compact`, the records committed meanwhile (the tee), the
 * switch of files, and the timer of periodic compactions
 * (spec: persistence.md §5, §7).
 *
 * @module
 */
import type { Job } from "../domain/job.ts";
import type { Rule } from "../domain/rule.ts";
import type { Run } from "../domain/run.ts";
import { fsReason } from "../errors.ts";
import {
  closeQuietly,
  concat,
  totalLength,
  writeAll,
  writeAllSync,
} from "../io.ts";
import { count, logger } from "../log.ts";
import {
  ChunkWriter,
  compactionTempPath,
  type FileLike,
  type OpenFile,
  removeIfPresent,
  syncDirectorySync,
} from "./files.ts";
import type { Counter, Metrics } from "../scheduler/ports.ts";
import { formatRecord } from "./record.ts";
import { Pace, writeSorted } from "./sorted_runs.ts";

const log = logger("logfile");
/** Longer `setTimeout` delays fire at once, so long waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** STAT `compression` (spec: protocol.md §6, persistence.md §7). */
export type CompactionState = "idle" | "running" | "success" | "failure";

/** What a rewrite found: lines and bytes written. */
export interface RewriteStats {
  readonly rules: number;
  readonly jobs: number;
  readonly runs: number;
  readonly bytes: number;
}

/**
 * Live views of the state a rewrite writes (spec: persistence.md §7,
 * extensions.md §5). Items may be mutable objects: each is read when its
 * lines are written, and what changed since the rewrite began follows in
 * the tee.
 */
export interface Snapshot {
  readonly rules: Iterable<Rule>;
  /** Jobs with their kept runs, oldest first, if they have some. */
  readonly jobs: Iterable<SnapshotJob>;
}

/** A job as a snapshot shows it. */
export type SnapshotJob = Job & {
  readonly history?: { readonly runs: readonly Run[] };
};

/** Bytes committed to the old logfile while a rewrite runs. */
export interface Tee {
  /** Takes what was committed since the last call. */
  take(): Uint8Array[];
  /** Stops collecting. */
  stop(): void;
}

/** What the journal lends a rewrite. */
export interface RewriteSite {
  readonly path: string;
  readonly openFile: OpenFile;
  /** Live views of the state (see {@link Snapshot}). */
  snapshot(): Snapshot;
  /** Starts collecting committed bytes; `undefined` when not teeing. */
  tee(): Tee | undefined;
  /** Throws when the rewrite must stop (closed, or a write failed). */
  check(): void;
  /** Holds new groups and waits until none is being written or synced. */
  quiesce(): Promise<void>;
  /** Appends go to `file`, `size` bytes long, from now on; the old one is closed. */
  switchTo(file: FileLike, size: number): void;
  /** The rename may not be durable: the journal must stop appending. */
  lost(error: unknown): void;
  /** Lets groups be written again (always called at the end). */
  release(): void;
}

/**
 * Writes the live state to `<path>.compact`, adds what was committed
 * meanwhile, fsyncs it, renames it over the logfile, fsyncs the directory
 * and appends to it from then on. The last steps run synchronously, so no
 * group lands in between. A failure before the rename removes the temp
 * file and leaves the logfile untouched.
 */
export async function rewriteLogfile(site: RewriteSite): Promise<RewriteStats> {
  const tempPath = compactionTempPath(site.path);
  await removeIfPresent(tempPath);
  // Not `append`: the journal writes into the zero tail it will add.
  const temp = await site.openFile(tempPath, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  let renamed = false;
  const tee = site.tee();
  try {
    const stats = await writeSnapshot(site, temp, tee);
    await site.quiesce();
    // From here on nothing yields: committed groups cannot slip between the
    // last tee bytes and the switch of files.
    const rest = tee?.take() ?? [];
    if (rest.length > 0) {
      writeAllSync(temp, concat(rest));
      temp.syncDataSync();
    }
    Deno.renameSync(tempPath, site.path);
    renamed = true;
    const bytes = stats.bytes + totalLength(rest);
    site.switchTo(temp, bytes);
    try {
      syncDirectorySync(site.path);
    } catch (error) {
      site.lost(error);
      throw error;
    }
    return { ...stats, bytes };
  } catch (error) {
    if (!renamed) {
      closeQuietly(temp);
      await removeIfPresent(tempPath).catch(() => {});
    }
    throw error;
  } finally {
    tee?.stop();
    site.release();
  }
}

/**
 * Writes the sorted snapshot (rules, jobs, then the runs of each job,
 * sorted by job id) and the tee so far to the temp file, fsynced.
 */
async function writeSnapshot(
  site: RewriteSite,
  temp: FileLike,
  tee: Tee | undefined,
): Promise<RewriteStats> {
  const check = () => site.check();
  const writer = new ChunkWriter(temp);
  const { rules, jobs } = site.snapshot();
  const ruleCount = await writeSorted(rules, ruleLine, writer, check);
  // Jobs come out sorted, so the ones with runs are collected in order.
  const withRuns: SnapshotJob[] = [];
  const jobCount = await writeSorted(
    jobs,
    (job) => {
      if (job.history !== undefined && job.history.runs.length > 0) {
        withRuns.push(job);
      }
      return jobLine(job);
    },
    writer,
    check,
  );
  const runCount = await writeRuns(withRuns, writer, check);
  await writer.flush();
  check();
  let bytes = writer.bytes;
  for (let parts = tee?.take() ?? []; parts.length > 0; parts = tee!.take()) {
    const joined = concat(parts);
    await writeAll(temp, joined);
    bytes += joined.length;
    check();
  }
  await temp.syncData();
  check();
  return { rules: ruleCount, jobs: jobCount, runs: runCount, bytes };
}

/** Writes the kept runs of each job, in order, yielding to the event loop. */
async function writeRuns(
  jobs: readonly SnapshotJob[],
  writer: ChunkWriter,
  check: () => void,
): Promise<number> {
  const pace = new Pace();
  let count = 0;
  for (const job of jobs) {
    for (const run of job.history?.runs ?? []) {
      writer.add(formatRecord({ kind: "run", run }));
      count++;
    }
    if (writer.isFull) {
      await writer.flush();
      check();
    }
    if (pace.isDue()) {
      await pace.yield();
      check();
    }
  }
  return count;
}

function ruleLine(rule: Rule): string {
  return formatRecord({ kind: "ruleSet", rule });
}

function jobLine(job: Job): string {
  return formatRecord({ kind: "set", job });
}

/**
 * Runs compactions, one at a time, every `intervalS` seconds (the first
 * time that long after start; `0` = never), and keeps the state STAT shows
 * as `compression` (spec: persistence.md §7). A cycle that finds the
 * previous one still running is skipped. Its timer never keeps the process
 * alive.
 */
export class Compactions {
  #state: CompactionState = "idle";
  readonly #intervalMs: number;
  readonly #task: () => void;
  #nextMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #outcomes: Record<"success" | "failure", Counter> | undefined;

  /**
   * `task` is called at each cycle; it decides whether to run. Finished
   * compactions are counted in `compactions_total{outcome}` of `metrics`.
   */
  constructor(intervalS: number, task: () => void, metrics?: Metrics) {
    this.#intervalMs = intervalS * 1000;
    this.#task = task;
    this.#outcomes = metrics && {
      success: metrics.counter("compactions_total", { outcome: "success" }),
      failure: metrics.counter("compactions_total", { outcome: "failure" }),
    };
    this.#nextMs = intervalS > 0
      ? performance.now() + this.#intervalMs
      : Infinity;
    if (intervalS > 0) this.#arm();
  }

  /** Where the last compaction got: `idle` before the first one. */
  get state(): CompactionState {
    return this.#state;
  }

  /**
   * Runs one compaction through `rewrite`; never rejects: the outcome shows
   * in `state` and the log (a failure while `closed()` is only debug).
   */
  async run(
    rewrite: () => Promise<RewriteStats>,
    closed: () => boolean,
  ): Promise<void> {
    this.#state = "running";
    const startedMs = performance.now();
    try {
      const { rules, jobs, runs, bytes } = await rewrite();
      this.#state = "success";
      this.#outcomes?.success.add();
      const ms = Math.round(performance.now() - startedMs);
      const ofRuns = runs > 0 ? ` ${count(runs, "run")},` : "";
      log.info(
        `logfile: compacted to ${count(rules, "rule")}, ${
          count(jobs, "job")
        },${ofRuns} ${bytes} bytes in ${ms} ms`,
      );
    } catch (error) {
      this.#state = "failure";
      this.#outcomes?.failure.add();
      if (closed()) {
        const reason = fsReason(error);
        log.debug(`logfile: compaction abandoned: ${reason}`, { reason });
      } else {
        const reason = fsReason(error);
        log.warn(`logfile: compaction failed: ${reason}`, { reason });
      }
    }
  }

  /** Stops the timer. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#nextMs = Infinity;
  }

  #arm(): void {
    const delayMs = Math.max(0, this.#nextMs - performance.now());
    const timer = setTimeout(
      () => this.#fire(),
      Math.min(delayMs, MAX_TIMER_MS),
    );
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#nextMs === Infinity) return;
    const nowMs = performance.now();
    if (nowMs >= this.#nextMs) {
      while (this.#nextMs <= nowMs) this.#nextMs += this.#intervalMs;
      this.#task();
    }
    this.#arm();
  }
}
