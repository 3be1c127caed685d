/** LogfileJournal: the journal contract, open(), and group commit (failures and compaction have files of their own). */
import assert from "node:assert/strict";
import { LogfileError } from "../../../src/persistence/files.ts";
import { LogfileJournal } from "../../../src/persistence/logfile_journal.ts";
import { formatRecord, parseRecord } from "../../../src/persistence/record.ts";
import {
  SAMPLE_MUTATIONS,
  testJournalContract,
} from "../../_contracts/journal_contract.ts";
import { tempDir } from "../../_helpers/fs.ts";
import {
  appendUndoable,
  capturingLogs,
  newProbe,
  NO_SPACE,
  options,
  setJob,
  State,
} from "./_journal_fixture.ts";
import { EXAMPLE_LOG } from "./_example_log.ts";

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

Deno.test("LogfileJournal append() writes groups of every size and alphabet exactly, one after another (its encoding buffer is reused)", async () => {
  await using dir = await tempDir("ztick_journal_");
  const path = `${dir.path}/logfile`;
  const expected: string[] = [];
  for (const fsync of [true, false]) {
    await using journal = await LogfileJournal.open(
      path,
      options(new State(), newProbe(), { fsync }),
    );
    // One record, a group over the reused buffer's limit, a short one
    // after it (no bytes of the long one may linger), non-ASCII ids.
    for (const size of [1, 600, 2, 1, 40, 3000, 1]) {
      const pending: Promise<void>[] = [];
      for (let i = 0; i < size; i++) {
        const id = i % 7 === 3 ? `é.${size}.${i}.€😀` : `j.${size}.${i}`;
        const mutation = setJob(id, BigInt(size * 1000 + i));
        expected.push(`${formatRecord(mutation)}\n`);
        pending.push(journal.append(mutation));
      }
      await Promise.all(pending);
    }
  }
  assert.equal(await Deno.readTextFile(path), expected.join(""));
});
