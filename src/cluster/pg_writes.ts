/**
 * The statements of one commit: the lease fence first, then the group's
 * multi-row writes; values are always parameters (spec: cluster.md §2–§3).
 *
 * @module
 */
import type { TransactionSql } from "postgres";
import { attemptOf } from "../domain/job.ts";
import type { Mutation } from "../domain/mutation.ts";
import { formatRecord } from "../persistence/record.ts";
import type { GroupWrites } from "./_pg_group.ts";

/** Who must still hold the lease for a commit to count. */
export interface Fence {
  readonly nodeId: string;
  readonly term: bigint;
}

/** Type oids of the arrays' elements. */
const TEXT = 25;
const INT8 = 20;
const INT4 = 23;

type Tx = TransactionSql<Record<string, never>>;
// deno-lint-ignore no-explicit-any
type Pending = PromiseLike<any>;

/**
 * The statements of a group, sent at once (pipelined) in one transaction:
 * the fence locks the lease row, so no takeover commits before this does.
 */
export function groupStatements(
  tx: Tx,
  writes: GroupWrites,
  { fence, history }: { fence: Fence | undefined; history: number },
): Pending[] {
  const statements: Pending[] = [];
  if (fence !== undefined) {
    statements.push(
      tx`select ztick_fence(${fence.nodeId}, ${fence.term.toString()}::bigint)`,
    );
  }
  statements.push(...jobStatements(tx, writes));
  statements.push(...ruleStatements(tx, writes));
  if (writes.runs.length > 0) {
    const jobIds = writes.runs.map((run) => run.jobId);
    const records = writes.runs.map((run) =>
      formatRecord({ kind: "run", run })
    );
    statements.push(
      tx`insert into ztick_runs (job_id, record)
        select * from unnest(${tx.array(jobIds, TEXT)}::text[], ${
        tx.array(records, TEXT)
      }::text[])`,
      tx`delete from ztick_runs where seq in (
        select seq from (
          select seq, row_number() over (
            partition by job_id order by seq desc) as n
          from ztick_runs where job_id = any(${tx.array(jobIds, TEXT)}::text[])
        ) kept where n > ${history})`,
    );
  }
  return statements;
}

function jobStatements(tx: Tx, writes: GroupWrites): Pending[] {
  const statements: Pending[] = [];
  const { jobDeletes, jobUpserts } = writes;
  if (jobDeletes.length > 0) {
    statements.push(
      tx`delete from ztick_jobs where id = any(${
        tx.array(jobDeletes, TEXT)
      }::text[])`,
      tx`delete from ztick_runs where job_id = any(${
        tx.array(jobDeletes, TEXT)
      }::text[])`,
    );
  }
  if (jobUpserts.length > 0) {
    const ids = jobUpserts.map((job) => job.id);
    const executions = jobUpserts.map((job) => job.executionNs.toString());
    const statuses = jobUpserts.map((job) => job.status);
    const attempts = jobUpserts.map((job) => attemptOf(job));
    // A recurring job keeps its whole SET record (schedule, occurrence).
    const schedules = jobUpserts.map((job) =>
      job.schedule === undefined ? null : formatRecord({ kind: "set", job })
    );
    statements.push(
      tx`insert into ztick_jobs (id, execution_ns, status, attempt, schedule)
        select * from unnest(${tx.array(ids, TEXT)}::text[], ${
        tx.array(executions, INT8)
      }::bigint[],
          ${tx.array(statuses, TEXT)}::text[], ${
        tx.array(attempts, INT4)
      }::integer[], ${tx.array(schedules, TEXT)}::text[])
        on conflict (id) do update set execution_ns = excluded.execution_ns,
          status = excluded.status, attempt = excluded.attempt,
          schedule = excluded.schedule`,
    );
  }
  return statements;
}

function ruleStatements(tx: Tx, writes: GroupWrites): Pending[] {
  const statements: Pending[] = [];
  const { ruleDeletes, ruleUpserts } = writes;
  if (ruleDeletes.length > 0) {
    statements.push(
      tx`delete from ztick_rules where id = any(${
        tx.array(ruleDeletes, TEXT)
      }::text[])`,
    );
  }
  if (ruleUpserts.length > 0) {
    const ids = ruleUpserts.map((rule) => rule.id);
    const records = ruleUpserts.map((rule) =>
      formatRecord({ kind: "ruleSet", rule } satisfies Mutation)
    );
    statements.push(
      tx`insert into ztick_rules (id, record)
        select * from unnest(${tx.array(ids, TEXT)}::text[], ${
        tx.array(records, TEXT)
      }::text[])
        on conflict (id) do update set record = excluded.record`,
    );
  }
  return statements;
}
