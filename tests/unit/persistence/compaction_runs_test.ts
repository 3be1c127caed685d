/**
 * Compaction with run histories: the snapshot writes the runs after the
 * jobs, records committed meanwhile follow, and a replay of the result
 * equals the live state (spec: persistence.md §7, extensions.md §5).
 */
import assert from "node:assert/strict";
import type { Mutation } from "../../../src/domain/mutation.ts";
import type { Run } from "../../../src/domain/run.ts";
import { LogfileJournal } from "../../../src/persistence/logfile_journal.ts";
import { replayLogfileInto } from "../../../src/persistence/replay.ts";
import { JobStore } from "../../../src/scheduler/job_store.ts";
import { withTempDir } from "../../_helpers/fs.ts";
import { mulberry32 } from "../../_helpers/random.ts";

const HISTORY = 3;
let clock = 1_000n;

function nextRun(jobId: string, random: () => number): Run {
  clock += 1000n;
  const failed = random() < 0.5;
  return {
    jobId,
    attempt: 1 + Math.floor(random() * 3),
    startedNs: clock,
    endedNs: clock + 7n,
    outcome: failed ? "failed" : "executed",
    ruleId: random() < 0.1 ? "" : "rule.a",
    detail: failed ? "exit:3" : "exit:0",
    message: failed ? `exited with code 3: "q" \\ ${clock} é` : "",
  };
}

/** Applies a mutation to the store as the scheduler would, and journals it. */
function commit(
  store: JobStore,
  journal: LogfileJournal,
  mutation: Mutation,
): Promise<void> {
  if (mutation.kind === "run") {
    const entry = store.job(mutation.run.jobId);
    if (entry !== undefined) store.addRun(entry, mutation.run);
  } else store.apply(mutation);
  return journal.append(mutation);
}

function state(store: JobStore): string[] {
  const lines: string[] = [];
  for (const job of store.jobs()) {
    const runs = store.runsOf(job).map((r) =>
      `${r.attempt} ${r.startedNs} ${r.outcome} ${r.ruleId} ${r.detail} ${r.message}`
    );
    lines.push(
      `${job.id} ${job.executionNs} ${job.status} ${job.attempt} | ${
        runs.join(" | ")
      }`,
    );
  }
  return lines.sort();
}

Deno.test("LogfileJournal compact() writes runs after the jobs and replays to the live histories", async () => {
  await withTempDir("ztick_compaction_runs_", async (dir) => {
    const path = `${dir}/logfile`;
    const random = mulberry32(12);
    const store = new JobStore({ history: HISTORY });
    const journal = await LogfileJournal.open(path, {
      fsync: false,
      compactionIntervalS: 0,
      snapshot: () => store.snapshot(),
    });
    const ids = Array.from(
      { length: 20_000 },
      (_, i) => `job.${(i * 7919) % 20_000}`,
    );
    const initial: Promise<void>[] = [];
    initial.push(commit(store, journal, {
      kind: "ruleSet",
      rule: {
        id: "rule.a",
        pattern: "job.",
        runner: { kind: "shell", command: "x" },
      },
    }));
    for (const id of ids) {
      initial.push(commit(store, journal, {
        kind: "set",
        job: { id, executionNs: 5n, status: "executed" },
      }));
      const count = Math.floor(random() * 5);
      for (let i = 0; i < count; i++) {
        initial.push(
          commit(store, journal, { kind: "run", run: nextRun(id, random) }),
        );
      }
    }
    await Promise.all(initial);

    const compaction = journal.compact();
    const pending: Promise<void>[] = [];
    let rounds = 0;
    while (journal.compaction === "running") {
      for (let i = 0; i < 50; i++) {
        const id = ids[Math.floor(random() * ids.length)]!;
        const pick = random();
        if (pick < 0.8) {
          pending.push(
            commit(store, journal, { kind: "run", run: nextRun(id, random) }),
          );
        } else if (pick < 0.9) {
          pending.push(commit(store, journal, {
            kind: "set",
            job: { id, executionNs: clock, status: "planned", attempt: 2 },
          }));
        } else if (store.job(id) !== undefined) {
          pending.push(commit(store, journal, { kind: "remove", jobId: id }));
        }
      }
      rounds++;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await compaction;
    await Promise.all(pending);
    assert.equal(journal.compaction, "success");
    assert.ok(rounds > 3, `only ${rounds} rounds ran during the compaction`);
    await journal.close();

    const replayed = new JobStore({ history: HISTORY });
    await replayLogfileInto(path, (mutation) => replayed.apply(mutation));
    assert.deepEqual(state(replayed), state(store));

    // The file begins with the rule, the sorted jobs, then the sorted runs.
    const lines = (await Deno.readTextFile(path)).split("\n");
    assert.match(lines[0]!, /^RULE SET rule\.a /);
    const firstRun = lines.findIndex((line) => line.startsWith("RUN "));
    assert.ok(
      lines.slice(1, firstRun).every((line) => line.startsWith("SET ")),
    );
    assert.ok(firstRun > store.jobCount / 2);
  });
});

Deno.test("replay keeps only the newest runs when history was lowered", async () => {
  await withTempDir("ztick_compaction_runs_", async (dir) => {
    const path = `${dir}/logfile`;
    const lines = ["SET a 1 failed"];
    for (let n = 1; n <= 5; n++) {
      lines.push(`RUN a ${n} ${n}0 ${n}1 failed r exit:1 "m ${n}"`);
    }
    await Deno.writeTextFile(path, lines.join("\n") + "\n");
    const store = new JobStore({ history: 2 });
    await replayLogfileInto(path, (mutation) => store.apply(mutation));
    assert.deepEqual(
      store.runsOf(store.job("a")!).map((r) => [r.attempt, r.message]),
      [[4, ""], [5, "m 5"]],
    );
  });
});
