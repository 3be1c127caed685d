/**
 * ztick's tables in the URL's database and default schema, created on
 * first start and versioned (spec: cluster.md §2). Nodes started together
 * serialize on an advisory lock: one creates, the others wait and find it.
 *
 * @module
 */
import { StartupError } from "../startup.ts";
import type { Pg } from "./pg.ts";

/** The version of the tables this daemon writes. */
export const SCHEMA_VERSION = 1;
/** The advisory lock key of schema changes ("ztick" in ASCII). */
const SCHEMA_LOCK = 0x7a7469636b;
/** SQLSTATE raised by `ztick_fence` when the lease is not the caller's. */
export const FENCE_SQLSTATE = "ZT001";

/** Version 1: jobs, rules, kept runs as current rows, the lease row. */
const VERSION_1 = [
  `create table ztick_jobs (
    id text primary key,
    execution_ns bigint not null,
    status text not null,
    attempt integer not null default 1,
    schedule text
  )`,
  `create table ztick_rules (id text primary key, record text not null)`,
  `create table ztick_runs (
    seq bigserial primary key,
    job_id text not null,
    record text not null
  )`,
  `create index ztick_runs_job on ztick_runs (job_id, seq)`,
  `create table ztick_lease (
    id smallint primary key check (id = 1),
    node_id text not null,
    term bigint not null,
    expires_at timestamptz not null
  )`,
  `insert into ztick_lease values (1, '', 0, '-infinity')`,
  `create function ztick_fence(p_node text, p_term bigint) returns void
    language plpgsql as $$
    begin
      perform 1 from ztick_lease
        where id = 1 and node_id = p_node and term = p_term for share;
      if not found then
        raise exception using errcode = '${FENCE_SQLSTATE}',
          message = 'the lease is not held by this node';
      end if;
    end $$`,
];

/**
 * Creates the tables unless they exist, under a transaction-level
 * advisory lock, and checks their version.
 *
 * @throws {StartupError} when the database holds a newer version.
 */
export async function ensureSchema(sql: Pg): Promise<void> {
  const version = await sql.begin(async (tx) => {
    // Nodes started together wait here for the one creating the tables,
    // longer than the sessions' statement timeout may allow.
    await tx`set local statement_timeout = 0`;
    await tx`select pg_advisory_xact_lock(${SCHEMA_LOCK})`;
    await tx`create table if not exists ztick_schema_version (
      version integer not null
    )`;
    const rows = await tx<{ version: number }[]>`
      select max(version) as version from ztick_schema_version`;
    const found = rows[0]?.version ?? 0;
    if (found === 0) {
      for (const statement of VERSION_1) await tx.unsafe(statement);
      await tx`insert into ztick_schema_version values (${SCHEMA_VERSION})`;
      return SCHEMA_VERSION;
    }
    return found;
  });
  if (version > SCHEMA_VERSION) {
    throw new StartupError(
      `postgres: the database's schema version ${version} is newer than this ztick's (${SCHEMA_VERSION})`,
    );
  }
}
