/** LogfileJournal failures: a failed write or fsync undoes its group newest first, goes read-only and recovers; close(). */
import assert from "node:assert/strict";
import { LogfileJournal } from "../../../src/persistence/logfile_journal.ts";
import { tempDir } from "../../_helpers/fs.ts";
import {
  appendUndoable,
  capturingLogs,
  commit,
  newProbe,
  NO_SPACE,
  options,
  replay,
  setJob,
  State,
  waitFor,
} from "./_journal_fixture.ts";

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
