/**
 * The PostgreSQL journal against a real database: the journal contract,
 * group commit in one transaction, fencing, and the state load.
 */
import assert from "node:assert/strict";
import { connectPg, type Pg } from "../../../src/cluster/pg.ts";
import { PgJournal } from "../../../src/cluster/pg_journal.ts";
import { loadState } from "../../../src/cluster/pg_state.ts";
import { ensureSchema } from "../../../src/cluster/schema.ts";
import type { Mutation } from "../../../src/domain/mutation.ts";
import { formatRecord, parseRecord } from "../../../src/persistence/record.ts";
import { JobStore } from "../../../src/scheduler/job_store.ts";
import {
  SAMPLE_MUTATIONS,
  testJournalContract,
} from "../../_contracts/journal_contract.ts";
import { testDatabase } from "../../_helpers/postgres.ts";

const TEST = { sanitizeOps: false, sanitizeResources: false };

/** A journal on a fresh database, whose disposal drops the database. */
async function openJournal(
  fence?: { nodeId: string; term: bigint },
): Promise<{ journal: PgJournal; sql: Pg; url: string } & AsyncDisposable> {
  const db = await testDatabase();
  const sql = await connectPg(db.url);
  await ensureSchema(sql);
  const journal = new PgJournal(sql, {
    url: db.url,
    history: 10,
    ...(fence ? { fence } : {}),
  });
  return {
    journal,
    sql,
    url: db.url,
    async [Symbol.asyncDispose]() {
      await journal.close();
      await sql.end({ timeout: 1 });
      await db[Symbol.asyncDispose]();
    },
  };
}

testJournalContract("PgJournal", async () => {
  const opened = await openJournal();
  const { journal } = opened;
  return Object.assign(journal, {
    [Symbol.asyncDispose]: () => opened[Symbol.asyncDispose](),
  });
});

async function stateOf(sql: Pg): Promise<string[]> {
  const store = new JobStore({ history: 10 });
  const seen: Mutation[] = [];
  await loadState(sql, (mutation) => {
    seen.push(mutation);
    store.apply(mutation);
  });
  return seen.map((m) =>
    JSON.stringify(m, (_, v) => typeof v === "bigint" ? `${v}n` : v)
  );
}

Deno.test({
  name: "PgJournal stores what it commits; the state load gives it back",
  ...TEST,
  fn: async () => {
    await using opened = await openJournal();
    const { journal, sql } = opened;
    await Promise.all(
      SAMPLE_MUTATIONS.slice(0, 2).map((m) => journal.append(m)),
    );
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        journal.append({
          kind: "set",
          job: { id: `job.${i}`, executionNs: BigInt(i), status: "planned" },
        })),
    );
    await journal.append({ kind: "remove", jobId: "job.7" });
    await journal.append({
      kind: "run",
      run: {
        jobId: "job.8",
        attempt: 1,
        startedNs: 1n,
        endedNs: 2n,
        outcome: "failed",
        ruleId: "rule.backup",
        detail: "exit:3",
        message: 'it\'s "broken"',
      },
    });
    const state = await stateOf(sql);
    assert.equal(state.filter((s) => s.includes('"set"')).length, 500);
    assert.ok(state[0]!.includes("rule.backup"));
    assert.ok(!state.some((s) => s.includes('"job.7"')));
    assert.ok(state.at(-1)!.includes("broken"));
  },
});

Deno.test({
  name: "PgJournal commits concurrent appends in few transactions",
  ...TEST,
  fn: async () => {
    await using opened = await openJournal();
    const { journal, sql } = opened;
    const [before] = await sql<{ n: bigint }[]>`
      select xact_commit as n from pg_stat_database where datname = current_database()`;
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        journal.append({
          kind: "set",
          job: { id: `j${i}`, executionNs: 1n, status: "planned" },
        })),
    );
    const [after] = await sql<{ n: bigint }[]>`
      select xact_commit as n from pg_stat_database where datname = current_database()`;
    // stats lag; the bound is loose: far fewer than one per record
    assert.ok(Number(after!.n) - Number(before!.n) < 100);
  },
});

Deno.test({
  name:
    "PgJournal: a commit under a lease this node no longer holds fails its group and deposes the journal",
  ...TEST,
  fn: async () => {
    await using opened = await openJournal({ nodeId: "a", term: 1n });
    const { journal, sql } = opened;
    await sql`update ztick_lease set node_id = 'a', term = 1, expires_at = now() + interval '1 minute'`;
    await journal.append(SAMPLE_MUTATIONS[0]!);
    await sql`update ztick_lease set node_id = 'b', term = 2`;
    await assert.rejects(
      journal.append(SAMPLE_MUTATIONS[1]!),
      /lease is not held/,
    );
    assert.equal(journal.writable, false);
    await assert.rejects(
      journal.append(SAMPLE_MUTATIONS[1]!),
      /not the leader/,
    );
    const [row] = await sql`select count(*)::int as n from ztick_jobs`;
    assert.equal(row!.n, 0);
  },
});

Deno.test({
  name:
    "PgJournal: a constraint failure fails only its group; the journal stays writable",
  ...TEST,
  fn: async () => {
    await using opened = await openJournal();
    const { journal, sql } = opened;
    await sql`alter table ztick_jobs add constraint short_id check (length(id) < 10)`;
    await assert.rejects(
      journal.append({
        kind: "set",
        job: { id: "x".repeat(20), executionNs: 1n, status: "planned" },
      }),
      /commit failed/,
    );
    assert.equal(journal.writable, true);
    await journal.append({
      kind: "set",
      job: { id: "ok", executionNs: 1n, status: "planned" },
    });
  },
});

Deno.test({
  name:
    "PgJournal keeps a recurring job's schedule and occurrence; a SET without one clears it",
  ...TEST,
  fn: async () => {
    await using opened = await openJournal();
    const { journal, sql } = opened;
    const nightly = parseRecord(
      'SET backup.nightly 1800000000000000000 planned attempt=2 "cron=30 2 * * *" tz=Europe/Paris catchup=all occurrence=1799990000000000000',
    );
    const plain = parseRecord("SET other 1800000000000000000 planned");
    assert.ok(nightly?.kind === "set" && plain?.kind === "set");
    await journal.append(nightly);
    await journal.append({
      kind: "set",
      job: { ...nightly.job, id: "was.recurring" },
    });
    await journal.append({
      kind: "set",
      job: { id: "was.recurring", executionNs: 5n, status: "planned" },
    });
    const loaded: string[] = [];
    await loadState(sql, (m) => loaded.push(formatRecord(m)));
    assert.deepEqual(loaded.sort(), [
      'SET backup.nightly 1800000000000000000 planned attempt=2 "cron=30 2 * * *" tz=Europe/Paris catchup=all occurrence=1799990000000000000',
      "SET was.recurring 5 planned",
    ]);
  },
});
