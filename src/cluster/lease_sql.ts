/**
 * The lease row's three statements (spec: cluster.md §3); expiry is
 * always computed with the database's clock.
 *
 * @module
 */
import type { Pg } from "./pg.ts";

/**
 * Takes the lease when it is free or expired by the database's clock,
 * raising the term by one; `undefined` when another node holds it.
 */
export async function takeLease(
  sql: Pg,
  nodeId: string,
  leaseMs: number,
): Promise<bigint | undefined> {
  const rows = await sql<{ term: string }[]>`
    update ztick_lease set node_id = ${nodeId}, term = term + 1,
      expires_at = now() + ${leaseMs} * interval '1 millisecond'
    where id = 1 and expires_at <= now()
    returning term::text as term`;
  const term = rows[0]?.term;
  return term === undefined ? undefined : BigInt(term);
}

/** Extends this node's lease; `false` when it is no longer this node's. */
export async function renewLease(
  sql: Pg,
  { nodeId, term, leaseMs }: { nodeId: string; term: bigint; leaseMs: number },
): Promise<boolean> {
  const rows = await sql`
    update ztick_lease
    set expires_at = now() + ${leaseMs} * interval '1 millisecond'
    where id = 1 and node_id = ${nodeId} and term = ${term.toString()}::bigint
    returning 1`;
  return rows.length === 1;
}

/** Sets this node's lease expired, so a follower takes over at once. */
export async function releaseLease(
  sql: Pg,
  { nodeId, term }: { nodeId: string; term: bigint },
): Promise<void> {
  await sql`
    update ztick_lease set expires_at = now()
    where id = 1 and node_id = ${nodeId} and term = ${term.toString()}::bigint`;
}
