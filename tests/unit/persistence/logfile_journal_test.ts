import assert from "node:assert/strict";
import type { JobStatus } from "../../../src/domain/job.ts";
import type { Mutation } from "../../../src/domain/mutation.ts";
import { compareBytes, type Rule } from "../../../src/domain/rule.ts";
import { setUpLogging } from "../../../src/log.ts";
import { type FileLike, LogfileError } from "../../../src/persistence/files.ts";
import {
  LogfileJournal,
  type LogfileJournalOptions,
} from "../../../src/persistence/logfile_journal.ts";
import { UndoLog } from "../../../src/scheduler/undo_log.ts";
import { formatRecord, parseRecord } from "../../../src/persistence/record.ts";
import {
  SAMPLE_MUTATIONS,
  testJournalContract,
} from "../../_contracts/journal_contract.ts";
import { probeMount, tempDir, unmount } from "../../_helpers/fs.ts";

const MOUNT_PROBLEM = probeMount();

// ---------------------------------------------------------------- helpers

interface MutableJob {
  readonly id: string;
  readonly executionNs: bigint;
  status: JobStatus;
}

/** The scheduler's state in small: applies mutations and undoes them. */
class State {
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

function restore<T>(
  map: Map<string, T>,
  id: string,
  before: T | undefined,
): void {
  if (before === undefined) map.delete(id);
  else map.set(id, before);
}

/** Replays a logfile into a fresh state. */
async function replay(path: string): Promise<State> {
  const state = new State();
  for (const line of (await Deno.readTextFile(path)).split("\n")) {
    const mutation = parseRecord(line);
    if (mutation !== undefined) state.apply(mutation);
  }
  return state;
}

/** Faults and counters shared by every file a test opens. */
interface Probe {
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

function newProbe(): Probe {
  return { writes: 0, syncs: 0, opened: [], maxWrite: Infinity };
}

/** Wraps a real file: counts writes and syncs, injects faults. */
class ProbedFile implements FileLike {
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

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function probedOpen(
  probe: Probe,
): NonNullable<LogfileJournalOptions["openFile"]> {
  return async (path, options) => {
    probe.opened.push(path);
    return new ProbedFile(await Deno.open(path, options), path, probe);
  };
}

function options(
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
const UNDO_LOG = new UndoLog();

/** Appends a mutation; `undo` runs if its group fails (the state's owner). */
function appendUndoable(
  journal: LogfileJournal,
  mutation: Mutation,
  undo: () => void,
): Promise<void> {
  return UNDO_LOG.track(journal.append(mutation), undo);
}

/** Applies a mutation to the state and appends it with its undo. */
function commit(
  journal: LogfileJournal,
  state: State,
  mutation: Mutation,
): Promise<void> {
  return appendUndoable(journal, mutation, state.apply(mutation));
}

function setJob(
  id: string,
  executionNs: bigint,
  status: JobStatus = "planned",
): Mutation {
  return { kind: "set", job: { id, executionNs, status } };
}

async function waitFor(
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
async function capturingLogs(
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

const NO_SPACE = new Error("No space left on device (os error 28)");

// The §9 example of persistence.md without its torn tail.
const EXAMPLE_LOG = [
  "RULE SET rule.backup backup. shell /usr/local/bin/backup.sh",
  "SET backup.daily 1775008800000000000 planned",
  "RULE SET rule.events events. amqp amqp://app:s3cret@mq.internal:5672/ scheduler job.due",
  "SET backup.daily 1775008800000000000 triggered",
  "SET backup.daily 1775008800000000000 executed",
  'RULE SET rule.report report. shell "/usr/bin/report --title \\"Q1\\""',
  "SET report.q1 1775030400000000000 planned",
  "SET mail.welcome 1775030400000000000 failed",
  "REMOVE report.q1",
  "REMOVERULE rule.events",
].map((line) => `${line}\n`).join("");

const EXAMPLE_COMPACTED = [
  "RULE SET rule.backup backup. shell /usr/local/bin/backup.sh",
  'RULE SET rule.report report. shell "/usr/bin/report --title \\"Q1\\""',
  "SET backup.daily 1775008800000000000 executed",
  "SET mail.welcome 1775030400000000000 failed",
].map((line) => `${line}\n`).join("");

// ---------------------------------------------------------------- contract

testJournalContract("LogfileJournal", async () => {
  const dir = await tempDir("ztick_journal_");
  const journal = await LogfileJournal.open(`${dir.path}/logfile`, {
    fsync: true,
    compactionIntervalS: 0,
    snapshot: () => ({ rules: [], jobs: [] }),
  });
  return Object.assign(journal, {
    [Symbol.asyncDispose]: async () => {
      await journal.close();
      await dir[Symbol.asyncDispose]();
    },
  });
});

// ---------------------------------------------------------------- open

Deno.test("LogfileJournal.open() creates the logfile with mode 0600", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  await using _journal = await LogfileJournal.open(
    path,
    options(new State(), newProbe()),
  );
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
});

Deno.test("LogfileJournal.open() throws LogfileError when the directory is missing", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/missing/logfile`;
  await assert.rejects(
    LogfileJournal.open(path, {
      fsync: true,
      compactionIntervalS: 0,
      snapshot: new State().snapshot,
    }),
    (error) => {
      assert.ok(error instanceof LogfileError);
      assert.equal(
        error.message,
        `logfile: cannot open ${path}: No such file or directory (os error 2)`,
      );
      return true;
    },
  );
});

Deno.test("LogfileJournal.open() appends after existing content", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  await Deno.writeTextFile(path, "SET a 1 planned\n");
  {
    await using journal = await LogfileJournal.open(
      path,
      options(new State(), newProbe()),
    );
    await journal.append(setJob("b", 2n));
  }
  assert.equal(
    await Deno.readTextFile(path),
    "SET a 1 planned\nSET b 2 planned\n",
  );
});

// ---------------------------------------------------------------- group commit

Deno.test("LogfileJournal append() writes each record as one canonical line", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  {
    await using journal = await LogfileJournal.open(
      path,
      options(new State(), newProbe()),
    );
    for (const line of EXAMPLE_LOG.trimEnd().split("\n")) {
      await journal.append(parseRecord(line)!);
    }
    await journal.append(setJob("odd id", -5n, "failed"));
  }
  assert.equal(
    await Deno.readTextFile(path),
    `${EXAMPLE_LOG}SET "odd id" -5 failed\n`,
  );
});

Deno.test("LogfileJournal append() writes a lone record at once with one write and one sync", async () => {
  await using dir = await tempDir("ztick_journal_");
  const probe = newProbe();
  await using journal = await LogfileJournal.open(
    `${dir.path}/logfile`,
    options(new State(), probe),
  );
  const committed = journal.append(setJob("a", 1n));
  // Written and its fsync started in a microtask: no timer, no waiting for
  // company.
  await Promise.resolve();
  assert.deepEqual([probe.writes, probe.syncs], [1, 1]);
  await committed;
  await journal.append(setJob("b", 2n));
  assert.deepEqual([probe.writes, probe.syncs], [2, 2]);
});

Deno.test("LogfileJournal append() gathers records appended during an fsync into the next group", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  const probe = newProbe();
  const gate = Promise.withResolvers<Error | undefined>();
  probe.syncGate = gate.promise;
  const expected: string[] = [];
  {
    await using journal = await LogfileJournal.open(
      path,
      options(new State(), probe),
    );
    const order: number[] = [];
    const append = (i: number) => {
      const mutation = setJob(`job.${i}`, BigInt(i));
      expected.push(`${formatRecord(mutation)}\n`);
      return journal.append(mutation).then(() => order.push(i));
    };
    const pending = [append(0)];
    await Promise.resolve();
    assert.deepEqual([probe.writes, probe.syncs], [1, 1]);
    // The first fsync is held: records of later turns wait for it.
    for (let i = 1; i <= 300; i++) {
      pending.push(append(i));
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    assert.deepEqual([probe.writes, probe.syncs, order.length], [1, 1, 0]);
    gate.resolve(undefined);
    await Promise.all(pending);
    assert.deepEqual(order, Array.from({ length: 301 }, (_, i) => i));
    assert.deepEqual([probe.writes, probe.syncs], [2, 2]);
  }
  assert.equal(await Deno.readTextFile(path), expected.join(""));
});

Deno.test("LogfileJournal append() fails the waiting group with a failed fsync, undoing it first", async () => {
  await using dir = await tempDir("ztick_journal_");
  const probe = newProbe();
  const state = new State();
  const gate = Promise.withResolvers<Error | undefined>();
  probe.syncGate = gate.promise;
  await capturingLogs(async () => {
    await using journal = await LogfileJournal.open(
      `${dir.path}/logfile`,
      options(state, probe),
    );
    const undone: string[] = [];
    const append = (id: string, executionNs: bigint) => {
      const mutation = setJob(id, executionNs);
      const undo = state.apply(mutation);
      return appendUndoable(journal, mutation, () => {
        undone.push(`${id}@${executionNs}`);
        undo();
      });
    };
    const inFlight = append("a", 1n);
    await Promise.resolve();
    const waiting = [append("a", 2n), append("b", 2n)];
    gate.resolve(NO_SPACE);
    const results = await Promise.allSettled([inFlight, ...waiting]);
    assert.deepEqual(
      results.map((result) => result.status),
      ["rejected", "rejected", "rejected"],
    );
    assert.deepEqual(undone, ["b@2", "a@2", "a@1"]);
    assert.deepEqual([...state.jobs.keys()], []);
    assert.equal(journal.writable, false);
    assert.deepEqual([probe.writes, probe.syncs], [1, 1]);
  });
});

Deno.test("LogfileJournal append() commits concurrent records with one write and one sync", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  const probe = newProbe();
  const expected: string[] = [];
  {
    await using journal = await LogfileJournal.open(
      path,
      options(new State(), probe),
    );
    const order: number[] = [];
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 1000; i++) {
      const mutation = setJob(`job.${i}`, BigInt(i));
      expected.push(`${formatRecord(mutation)}\n`);
      pending.push(journal.append(mutation).then(() => order.push(i)));
    }
    await Promise.all(pending);
    assert.deepEqual(order, Array.from({ length: 1000 }, (_, i) => i));
    assert.deepEqual([probe.writes, probe.syncs], [1, 1]);
  }
  assert.equal(await Deno.readTextFile(path), expected.join(""));
});

Deno.test("LogfileJournal append() forms a new group from records of later turns", async () => {
  await using dir = await tempDir("ztick_journal_");
  const probe = newProbe();
  await using journal = await LogfileJournal.open(
    `${dir.path}/logfile`,
    options(new State(), probe),
  );
  for (let turn = 0; turn < 10; turn++) {
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      pending.push(journal.append(setJob(`j.${turn}.${i}`, 1n)));
    }
    // Committed before the next turn appends: nothing is in flight then.
    await Promise.all(pending);
  }
  assert.deepEqual([probe.writes, probe.syncs], [10, 10]);
});

Deno.test("LogfileJournal append() skips the sync when fsync is off", async () => {
  await using dir = await tempDir("ztick_journal_");
  const probe = newProbe();
  await using journal = await LogfileJournal.open(
    `${dir.path}/logfile`,
    options(new State(), probe, { fsync: false }),
  );
  await Promise.all([
    journal.append(setJob("a", 1n)),
    journal.append(setJob("b", 1n)),
  ]);
  assert.deepEqual([probe.writes, probe.syncs], [1, 0]);
});

Deno.test("LogfileJournal append() loops on partial writes", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  const probe = newProbe();
  probe.maxWrite = 7;
  {
    await using journal = await LogfileJournal.open(
      path,
      options(new State(), probe),
    );
    await Promise.all(
      SAMPLE_MUTATIONS.map((mutation) => journal.append(mutation)),
    );
  }
  assert.equal(
    await Deno.readTextFile(path),
    SAMPLE_MUTATIONS.map((mutation) => `${formatRecord(mutation)}\n`).join(""),
  );
  assert.ok(probe.writes > 10);
});

// ---------------------------------------------------------------- failure

Deno.test("LogfileJournal append() rejects a failed group, undoes it newest first and goes read-only", async () => {
  await using dir = await tempDir("ztick_journal_");
  const probe = newProbe();
  const state = new State();
  await capturingLogs(async (logs) => {
    await using journal = await LogfileJournal.open(
      `${dir.path}/logfile`,
      options(state, probe),
    );
    await commit(journal, state, setJob("kept", 1n));
    probe.failSync = NO_SPACE;
    const undone: string[] = [];
    const group = ["a", "b", "c"].map((id) => {
      const mutation = setJob(id, 2n);
      const undo = state.apply(mutation);
      return appendUndoable(journal, mutation, () => {
        undone.push(id);
        undo();
      });
    });
    const results = await Promise.allSettled(group);
    assert.deepEqual(results.map((result) => result.status), [
      "rejected",
      "rejected",
      "rejected",
    ]);
    const reason = (results[0] as PromiseRejectedResult).reason;
    assert.ok(reason instanceof Error);
    assert.match(reason.message, /No space left on device/);
    assert.deepEqual(undone, ["c", "b", "a"]);
    assert.deepEqual([...state.jobs.keys()], ["kept"]);
    assert.equal(journal.writable, false);
    assert.ok(
      logs.some((line) =>
        line.startsWith("error logfile: write to ") &&
        line.includes("No space left")
      ),
    );

    // Further appends reject at once and are undone too.
    const writes = probe.writes;
    let lateUndone = false;
    await assert.rejects(
      appendUndoable(journal, setJob("late", 3n), () => lateUndone = true),
      /read-only/,
    );
    assert.equal(lateUndone, true);
    assert.equal(probe.writes, writes);
  });
});

/** Commits the rule and jobs the recovery tests start from. */
async function commitInitialState(
  journal: LogfileJournal,
  state: State,
): Promise<void> {
  await commit(journal, state, {
    kind: "ruleSet",
    rule: { id: "r", pattern: "", runner: { kind: "shell", command: "true" } },
  });
  await commit(journal, state, setJob("b", 1n));
  await commit(journal, state, setJob("a", 2n));
  await commit(journal, state, { kind: "remove", jobId: "b" });
}

Deno.test("LogfileJournal cuts a failed write off and recovers in the same file once a probe fits", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  const probe = newProbe();
  const state = new State();
  await capturingLogs(async (logs) => {
    await using journal = await LogfileJournal.open(
      path,
      options(state, probe),
    );
    await commitInitialState(journal, state);
    const before = await Deno.readTextFile(path);
    probe.maxWrite = 20; // the group is written in part, then the disk is full
    probe.failAfterWrites = probe.writes + 2; // the second write call fails
    probe.failWrite = NO_SPACE;
    await assert.rejects(
      commit(journal, state, setJob("lost.with.a.long.id", 3n)),
    );
    assert.equal(journal.writable, false);
    assert.equal(await Deno.readTextFile(path), before, "failed group cut off");

    // The probe meets the same fault: still read-only, nothing left behind.
    const writes = probe.writes;
    await waitFor(() => probe.writes > writes, 2000);
    assert.equal(journal.writable, false);
    assert.equal(await Deno.readTextFile(path), before);

    probe.failWrite = undefined;
    probe.maxWrite = Infinity;
    await waitFor(() => journal.writable, 2500);
    assert.deepEqual(probe.opened, [path], "recovered without a rewrite");
    assert.equal(await Deno.readTextFile(path), before);
    assert.ok(logs.includes("warning logfile: recovered, writable again"));

    await commit(journal, state, setJob("c", 4n));
    assert.equal((await replay(path)).compacted(), state.compacted());
    assert.equal(
      state.compacted(),
      'RULE SET r "" shell true\nSET a 2 planned\nSET c 4 planned\n',
    );
  });
});

Deno.test("LogfileJournal recovers after a failed fsync by rewriting the live state", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  const probe = newProbe();
  const state = new State();
  await capturingLogs(async (logs) => {
    await using journal = await LogfileJournal.open(
      path,
      options(state, probe),
    );
    await commitInitialState(journal, state);
    const before = await Deno.readTextFile(path);
    probe.failSync = NO_SPACE;
    await assert.rejects(commit(journal, state, setJob("lost", 3n)));
    assert.equal(journal.writable, false);
    assert.equal(await Deno.readTextFile(path), before, "failed group cut off");

    // The first recovery attempt meets the same fault and keeps read-only.
    const opened = probe.opened.length;
    await waitFor(() => probe.opened.length > opened, 2000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(journal.writable, false);
    assert.equal(
      (await Array.fromAsync(Deno.readDir(dir.path))).length,
      1,
      "temp file left behind",
    );

    probe.failSync = undefined;
    await waitFor(() => journal.writable, 2500);
    assert.equal(await Deno.readTextFile(path), state.compacted());
    assert.equal(
      state.compacted(),
      'RULE SET r "" shell true\nSET a 2 planned\n',
    );
    assert.ok(logs.includes("warning logfile: recovered, writable again"));

    await commit(journal, state, setJob("c", 4n));
    assert.equal(await Deno.readTextFile(path), state.compacted());
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  });
});

Deno.test("LogfileJournal append() rejects and undoes after close()", async () => {
  await using dir = await tempDir("ztick_journal_");
  const journal = await LogfileJournal.open(
    `${dir.path}/logfile`,
    options(new State(), newProbe()),
  );
  await journal.close();
  let undone = false;
  await assert.rejects(
    appendUndoable(journal, setJob("a", 1n), () => undone = true),
    /closed/,
  );
  assert.equal(undone, true);
});

Deno.test("LogfileJournal close() commits queued records", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  const journal = await LogfileJournal.open(
    path,
    options(new State(), newProbe()),
  );
  const committed = journal.append(setJob("a", 1n));
  await journal.close();
  await committed;
  assert.equal(await Deno.readTextFile(path), "SET a 1 planned\n");
});

// ---------------------------------------------------------------- compaction

Deno.test("LogfileJournal compact() rewrites the §9 example in its compacted form", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  await Deno.writeTextFile(path, EXAMPLE_LOG);
  const state = await replay(path);
  await capturingLogs(async (logs) => {
    await using journal = await LogfileJournal.open(
      path,
      options(state, newProbe()),
    );
    assert.equal(journal.compaction, "idle");
    const done = journal.compact();
    assert.equal(journal.compaction, "running");
    await done;
    assert.equal(journal.compaction, "success");
    assert.equal(await Deno.readTextFile(path), EXAMPLE_COMPACTED);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual(
      (await Array.fromAsync(Deno.readDir(dir.path))).map((e) => e.name),
      ["logfile"],
    );
    assert.ok(
      logs.some((line) =>
        line.startsWith("info logfile: compacted to 2 rules, 2 jobs")
      ),
    );

    // Appends go to the new file.
    await commit(journal, state, setJob("zz", 9n));
    assert.equal(
      await Deno.readTextFile(path),
      `${EXAMPLE_COMPACTED}SET zz 9 planned\n`,
    );
  });
});

Deno.test("LogfileJournal compact() sorts ids in UTF-8 byte order", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  const state = new State();
  // "\u{10000}" sorts after "\uFFFD" in bytes, before it in UTF-16.
  for (const id of ["b", "\u{10000}", "\uFFFD", "a"]) {
    state.apply(setJob(id, 1n));
  }
  await using journal = await LogfileJournal.open(
    path,
    options(state, newProbe()),
  );
  await journal.compact();
  assert.equal(
    await Deno.readTextFile(path),
    "SET a 1 planned\nSET b 1 planned\nSET \uFFFD 1 planned\nSET \u{10000} 1 planned\n",
  );
});

Deno.test("LogfileJournal compact() keeps records committed while it runs", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  const state = new State();
  const probe = newProbe();
  await using journal = await LogfileJournal.open(path, options(state, probe));
  const initial: Promise<void>[] = [];
  for (let i = 0; i < 60_000; i++) {
    initial.push(
      commit(journal, state, setJob(`job.${i % 997}.${i}`, BigInt(i))),
    );
  }
  await Promise.all(initial);

  const compaction = journal.compact();
  let during = 0;
  const pending: Promise<void>[] = [];
  for (let i = 0; journal.compaction === "running"; i++) {
    // New jobs, re-sets, in-place status changes, removals and rules.
    pending.push(commit(journal, state, setJob(`new.${i}`, BigInt(i))));
    pending.push(
      commit(journal, state, setJob(`job.${i % 997}.${i}`, -1n, "failed")),
    );
    const changed = `job.${(i * 7) % 997}.${i * 7}`;
    if (state.jobs.has(changed)) {
      const { mutation, undo } = state.transition(changed, "executed");
      pending.push(appendUndoable(journal, mutation, undo));
    }
    pending.push(
      commit(journal, state, {
        kind: "remove",
        jobId: `job.${(i * 13) % 997}.${i * 13}`,
      }),
    );
    pending.push(
      commit(journal, state, {
        kind: "ruleSet",
        rule: {
          id: `rule.${i}`,
          pattern: "job.",
          runner: { kind: "shell", command: "true" },
        },
      }),
    );
    if (i % 2 === 1) {
      pending.push(
        commit(journal, state, { kind: "removeRule", ruleId: `rule.${i - 1}` }),
      );
    }
    during++;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await compaction;
  await Promise.all(pending);
  assert.equal(journal.compaction, "success");
  assert.ok(
    during > 3,
    `only ${during} rounds of mutations ran during the compaction`,
  );
  await commit(journal, state, setJob("after", 1n));
  await journal.close();
  assert.equal((await replay(path)).compacted(), state.compacted());
  // The file starts with the sorted snapshot.
  assert.match(await Deno.readTextFile(path), /^RULE SET rule\.\d+ /);
});

Deno.test("LogfileJournal compact() commits records of the snapshot to the old file before switching, so a failure cannot leave them in the new one", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  const state = new State();
  const probe = newProbe();
  probe.synced = [];
  await capturingLogs(async () => {
    await using journal = await LogfileJournal.open(
      path,
      options(state, probe),
    );
    const initial: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) {
      initial.push(commit(journal, state, setJob(`job.${i}`, BigInt(i))));
    }
    await Promise.all(initial);
    // The old file's fsync is held, so the next group waits while the
    // snapshot (which already shows it) is written.
    const gate = Promise.withResolvers<Error | undefined>();
    probe.syncGate = gate.promise;
    probe.syncGateSuffix = "/logfile";
    const compaction = journal.compact();
    const inFlight = commit(journal, state, setJob("x", 1n));
    await Promise.resolve();
    const waiting = commit(journal, state, setJob("y", 2n));
    await waitFor(
      () => probe.synced!.some((p) => p.endsWith(".compact")),
      5000,
    );
    // Whatever is written to the new file after the switch fails.
    probe.failWriteOnceRenamed = NO_SPACE;
    gate.resolve(undefined);
    await compaction;
    await Promise.allSettled([inFlight, waiting]);
    probe.failWriteOnceRenamed = undefined;
    assert.equal((await replay(path)).compacted(), state.compacted());
  });
});

Deno.test("LogfileJournal compact() leaves the logfile untouched and removes the temp file when it fails", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  await Deno.writeTextFile(path, EXAMPLE_LOG);
  const state = await replay(path);
  const probe = newProbe();
  await capturingLogs(async (logs) => {
    await using journal = await LogfileJournal.open(
      path,
      options(state, probe),
    );
    probe.faultySuffix = ".compact";
    for (const fault of ["failWrite", "failSync"] as const) {
      probe[fault] = NO_SPACE;
      await journal.compact();
      probe[fault] = undefined;
      assert.equal(journal.compaction, "failure");
      assert.equal(await Deno.readTextFile(path), EXAMPLE_LOG);
      assert.deepEqual(
        (await Array.fromAsync(Deno.readDir(dir.path))).map((e) => e.name),
        ["logfile"],
      );
      assert.equal(journal.writable, true);
    }
    assert.ok(
      logs.includes(
        "warning logfile: compaction failed: No space left on device (os error 28)",
      ),
    );
    await commit(journal, state, setJob("x", 1n));
    assert.equal(
      await Deno.readTextFile(path),
      `${EXAMPLE_LOG}SET x 1 planned\n`,
    );
    await journal.compact();
    assert.equal(journal.compaction, "success");
  });
});

Deno.test("LogfileJournal compact() is skipped while one is running", async () => {
  await using dir = await tempDir("ztick_journal_");
  const state = new State();
  for (let i = 0; i < 30_000; i++) state.apply(setJob(`j.${i}`, 1n));
  const probe = newProbe();
  await using journal = await LogfileJournal.open(
    `${dir.path}/logfile`,
    options(state, probe),
  );
  const first = journal.compact();
  await journal.compact();
  assert.equal(journal.compaction, "running");
  await first;
  assert.equal(
    probe.opened.filter((path) => path.endsWith(".compact")).length,
    1,
  );
});

Deno.test("LogfileJournal compacts every compactionIntervalS", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  await Deno.writeTextFile(path, EXAMPLE_LOG);
  const state = await replay(path);
  const probe = newProbe();
  await using journal = await LogfileJournal.open(
    path,
    options(state, probe, { compactionIntervalS: 0.05 }),
  );
  assert.equal(journal.compaction, "idle");
  await waitFor(
    () => probe.opened.filter((p) => p.endsWith(".compact")).length >= 2,
    2000,
  );
  await waitFor(() => journal.compaction === "success", 1000);
  assert.equal(await Deno.readTextFile(path), EXAMPLE_COMPACTED);
});

Deno.test("LogfileJournal close() abandons a running compaction and removes its temp file", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  const state = new State();
  for (let i = 0; i < 50_000; i++) state.apply(setJob(`j.${i}`, 1n));
  const journal = await LogfileJournal.open(path, options(state, newProbe()));
  await journal.append(setJob("a", 1n));
  const compaction = journal.compact();
  await journal.close();
  await compaction;
  assert.equal(await Deno.readTextFile(path), "SET a 1 planned\n");
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(dir.path))).map((e) => e.name),
    ["logfile"],
  );
});

// ---------------------------------------------------------------- real full disk

Deno.test({
  name:
    "LogfileJournal goes read-only on a really full filesystem and recovers when space is freed" +
    (MOUNT_PROBLEM === undefined
      ? ""
      : ` (skipped: cannot mount tmpfs: ${MOUNT_PROBLEM})`),
  ignore: MOUNT_PROBLEM !== undefined,
  async fn() {
    await using dir = await tempDir("ztick_journal_");
    const mounted = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.path],
    }).output();
    assert.ok(mounted.success, "mount failed");
    try {
      const path = `${dir.path}/logfile`;
      const filler = `${dir.path}/filler`;
      await Deno.writeFile(filler, new Uint8Array(44 * 1024));
      const state = new State();
      await using journal = await LogfileJournal.open(path, {
        fsync: true,
        compactionIntervalS: 0,
        snapshot: state.snapshot,
      });
      let failure: unknown;
      for (let i = 0; failure === undefined && i < 10_000; i += 10) {
        const batch = Array.from(
          { length: 10 },
          (_, k) =>
            commit(
              journal,
              state,
              setJob(`job.${String(i + k).padStart(6, "0")}`, BigInt(i + k)),
            ),
        );
        const results = await Promise.allSettled(batch);
        const rejected = results.find((result) => result.status === "rejected");
        failure = rejected?.reason;
      }
      assert.ok(failure instanceof Error, "the filesystem never filled up");
      assert.match(failure.message, /No space left on device/);
      assert.equal(journal.writable, false);
      const acknowledged = state.compacted();

      // No space for the rewrite yet: still read-only after a try.
      await new Promise((resolve) => setTimeout(resolve, 1300));
      assert.equal(journal.writable, false);
      await assert.rejects(
        commit(journal, state, setJob("late", 1n)),
        /read-only/,
      );

      await Deno.remove(filler);
      await waitFor(() => journal.writable, 2500);
      assert.equal(await Deno.readTextFile(path), acknowledged);
      await commit(journal, state, setJob("after", 1n));
      assert.equal((await replay(path)).compacted(), state.compacted());
      await journal.close();
    } finally {
      await unmount(dir.path);
    }
  },
});
