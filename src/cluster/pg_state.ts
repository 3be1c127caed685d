/**
 * The stored state read back, the replay's twin (spec: cluster.md §2–§3,
 * §6): rules, then jobs, then kept runs in the order they were recorded,
 * as the mutations a replay of a compacted logfile would apply.
 *
 * @module
 */
import { isJobStatus, type Job } from "../domain/job.ts";
import type { Mutation } from "../domain/mutation.ts";
import { parseRecord } from "../persistence/record.ts";
import type { Pg } from "./pg.ts";

/** Rows read per round trip. */
const BATCH = 10_000;

interface JobRow {
  id: string;
  executionNs: bigint;
  status: string;
  attempt: number;
  /** A recurring job's whole SET record, else null. */
  schedule: string | null;
}

/**
 * Hands every stored rule, job and run to `apply`, in that order.
 *
 * @throws {SyntaxError} when a row does not hold a valid record.
 */
export async function loadState(
  sql: Pg,
  apply: (mutation: Mutation) => void,
): Promise<void> {
  // One snapshot; a large state may take longer than the sessions'
  // statement timeout (lease / 3), which is for writes: lifted here.
  await sql.begin("isolation level repeatable read read only", async (tx) => {
    await tx`set local statement_timeout = 0`;
    await tx`set local idle_in_transaction_session_timeout = 0`;
    for await (const mutation of storedMutations(tx as unknown as Pg, false)) {
      apply(mutation);
    }
  });
}

/**
 * The stored state as canonical mutations: rules, jobs, runs; `ordered`
 * sorts jobs by id (export), the load takes them as they come.
 */
export async function* storedMutations(
  sql: Pg,
  ordered = true,
): AsyncGenerator<Mutation> {
  for await (
    const rows of sql<{ record: string }[]>`
    select record from ztick_rules order by id`.cursor(BATCH)
  ) {
    for (const { record } of rows) yield parsed(record, "ruleSet");
  }
  const jobs = ordered
    ? sql<JobRow[]>`select id, execution_ns as "executionNs", status, attempt,
      schedule from ztick_jobs order by id`
    : sql<JobRow[]>`select id, execution_ns as "executionNs", status, attempt,
      schedule from ztick_jobs`;
  for await (const rows of jobs.cursor(BATCH)) {
    for (const row of rows) yield { kind: "set", job: jobOf(row) };
  }
  for await (
    const rows of sql<{ record: string }[]>`
    select record from ztick_runs order by seq`.cursor(BATCH)
  ) {
    for (const { record } of rows) yield parsed(record, "run");
  }
}

/** Tells whether the database holds no job and no rule (cluster.md §6). */
export async function isEmpty(sql: Pg): Promise<boolean> {
  const [row] = await sql<{ found: boolean }[]>`
    select exists (select 1 from ztick_jobs)
      or exists (select 1 from ztick_rules) as found`;
  return row?.found !== true;
}

function jobOf(row: JobRow): Job {
  if (row.schedule !== null) {
    const mutation = parsed(row.schedule, "set");
    if (mutation.kind === "set" && mutation.job.id === row.id) {
      return mutation.job;
    }
    throw new SyntaxError(`job ${row.id}: bad stored schedule`);
  }
  if (!isJobStatus(row.status)) {
    throw new SyntaxError(`job ${row.id}: bad status ${row.status}`);
  }
  const job = {
    id: row.id,
    executionNs: BigInt(row.executionNs),
    status: row.status,
  };
  return row.attempt > 1 ? { ...job, attempt: row.attempt } : job;
}

function parsed(record: string, kind: Mutation["kind"]): Mutation {
  const mutation = parseRecord(record);
  if (mutation?.kind !== kind) {
    throw new SyntaxError(`bad stored ${kind} record: ${record}`);
  }
  return mutation;
}
