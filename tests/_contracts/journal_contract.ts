import assert from "node:assert/strict";
import type { Mutation } from "../../src/domain/mutation.ts";
import type { Journal } from "../../src/scheduler/ports.ts";
import { UndoLog } from "../../src/scheduler/undo_log.ts";

/** Opens a fresh, empty journal; the test disposes of it. */
export type OpenJournal = () => Promise<Journal & AsyncDisposable>;

/** One mutation of each kind, as the scheduler sends them. */
export const SAMPLE_MUTATIONS: readonly Mutation[] = [
  {
    kind: "ruleSet",
    rule: {
      id: "rule.backup",
      pattern: "backup.",
      runner: { kind: "shell", command: "/usr/local/bin/backup.sh" },
    },
  },
  {
    kind: "set",
    job: {
      id: "backup.daily",
      executionNs: 1775008800000000000n,
      status: "planned",
    },
  },
  { kind: "remove", jobId: "backup.daily" },
  { kind: "removeRule", ruleId: "rule.backup" },
];

function setJob(i: number): Mutation {
  return {
    kind: "set",
    job: { id: `job.${i}`, executionNs: BigInt(i), status: "planned" },
  };
}

/**
 * Registers the tests every `Journal` must pass (spec: persistence.md §5),
 * named after `name`.
 */
export function testJournalContract(name: string, open: OpenJournal): void {
  Deno.test(`${name} is writable once opened`, async () => {
    await using journal = await open();
    assert.equal(journal.writable, true);
  });

  Deno.test(`${name} append() resolves for every kind of mutation`, async () => {
    await using journal = await open();
    for (const mutation of SAMPLE_MUTATIONS) {
      assert.equal(await journal.append(mutation), undefined);
    }
  });

  Deno.test(`${name} append() resolves concurrent appends in append order`, async () => {
    await using journal = await open();
    const order: number[] = [];
    await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) => journal.append(setJob(i)).then(() => order.push(i)),
      ),
    );
    assert.deepEqual(order, Array.from({ length: 200 }, (_, i) => i));
  });

  Deno.test(`${name} append() resolves appends made while others are pending`, async () => {
    await using journal = await open();
    const order: number[] = [];
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      pending.push(journal.append(setJob(i)).then(() => order.push(i)));
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await Promise.all(pending);
    assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i));
  });

  Deno.test(`${name} append() does not call undo for a committed record`, async () => {
    await using journal = await open();
    let undone = 0;
    const undoLog = new UndoLog();
    await Promise.all(
      SAMPLE_MUTATIONS.map((mutation) =>
        undoLog.track(journal.append(mutation), () => undone++)
      ),
    );
    assert.equal(undone, 0);
    assert.equal(journal.writable, true);
  });
}
