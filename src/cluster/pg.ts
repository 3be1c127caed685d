/**
 * PostgreSQL sessions for postgres mode (spec: cluster.md): the client is
 * the npm package `postgres`, loaded only in this mode, and every message
 * that could hold the URL is scrubbed of its password.
 *
 * @module
 */
import type { Sql } from "postgres";
import { errorMessage } from "../errors.ts";
import { StartupError } from "../startup.ts";

/** A pool of sessions on the cluster's database. */
export type Pg = Sql<Record<string, never>>;

/** How the sessions are opened. */
export interface PgOptions {
  /** Sessions in the pool. */
  readonly max?: number;
  /**
   * `statement_timeout` and `idle_in_transaction_session_timeout` of every
   * session, in ms (cluster.md §3: below lease / 3); 0 = none.
   */
  readonly statementTimeoutMs?: number;
  /** Seconds to wait for a connection. */
  readonly connectTimeoutS?: number;
}

/**
 * The URL without its password, as startup errors show it
 * (cluster.md §1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withoutPassword } from "./pg.ts";
 *
 * assert.equal(
 *   withoutPassword("postgres://ztick:secret@db.internal:5432/ztick"),
 *   "postgres://ztick@db.internal:5432/ztick",
 * );
 * assert.equal(withoutPassword("postgres://db/ztick"), "postgres://db/ztick");
 * ```
 */
export function withoutPassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^/?#@:]*):[^/?#]*@/i, "$1@");
}

/** The URL's password (decoded), or `""`. */
function passwordOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return "";
  }
}

/**
 * Removes the URL's password from a text, in every form it may take.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scrub } from "./pg.ts";
 *
 * const url = "postgres://ztick:s%40cret@db/ztick";
 * assert.equal(scrub(url, `auth failed for s@cret at ${url}`),
 *   "auth failed for *** at postgres://ztick@db/ztick");
 * ```
 */
export function scrub(url: string, text: string): string {
  let result = text.replaceAll(url, withoutPassword(url));
  const raw = /^[a-z]+:\/\/[^/?#@:]*:([^/?#]*)@/i.exec(url)?.[1];
  for (const secret of [raw, passwordOf(url)]) {
    if (secret) result = result.replaceAll(secret, "***");
  }
  return result;
}

/** An error's message, scrubbed of the URL's password. */
export function pgReason(url: string, error: unknown): string {
  return scrub(url, errorMessage(error));
}

/**
 * Opens a pool on `url` and checks that it connects.
 *
 * @throws {StartupError} `postgres: cannot connect to <url>: <reason>`.
 */
export async function connectPg(
  url: string,
  options: PgOptions = {},
): Promise<Pg> {
  const { default: postgres } = await import("postgres");
  const timeout = options.statementTimeoutMs ?? 0;
  const sql = postgres(url, {
    max: options.max ?? 4,
    connect_timeout: options.connectTimeoutS ?? 10,
    idle_timeout: 0,
    max_lifetime: 0,
    prepare: true,
    onnotice: () => {},
    connection: {
      application_name: "ztick",
      statement_timeout: timeout,
      idle_in_transaction_session_timeout: timeout,
    },
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (value: bigint) => value.toString(),
        parse: (text: string) => BigInt(text),
      },
    },
  }) as unknown as Pg;
  try {
    await sql`select 1`;
  } catch (error) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw new StartupError(
      `postgres: cannot connect to ${withoutPassword(url)}: ${
        pgReason(url, error)
      }`,
      { cause: error },
    );
  }
  return sql;
}
