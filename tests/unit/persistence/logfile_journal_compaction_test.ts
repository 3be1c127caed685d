/** LogfileJournal compaction: the §9 example, byte order, records committed meanwhile, failures, the interval, and a real full disk. */
import assert from "node:assert/strict";
import { LogfileJournal } from "../../../src/persistence/logfile_journal.ts";
import { tempDir, unmount } from "../../_helpers/fs.ts";
import {
  appendUndoable,
  capturingLogs,
  commit,
  MOUNT_PROBLEM,
  newProbe,
  NO_SPACE,
  options,
  replay,
  setJob,
  State,
  waitFor,
} from "./_journal_fixture.ts";
import { EXAMPLE_COMPACTED, EXAMPLE_LOG } from "./_example_log.ts";

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
