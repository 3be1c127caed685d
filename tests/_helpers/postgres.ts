/**
 * A PostgreSQL database of its own for each test (`.ci/postgres.sh` makes
 * the role and the database the tests start from), dropped at the end.
 */
import postgres from "postgres";

/** Where the tests' role connects; `ZTICK_TEST_PG_URL` overrides. */
export const ADMIN_URL = Deno.env.get("ZTICK_TEST_PG_URL") ??
  "postgres://ztick@127.0.0.1:5432/ztick";

/** A fresh database; disposing of it drops it (closing its sessions). */
export interface TestDatabase extends AsyncDisposable {
  readonly name: string;
  readonly url: string;
  /** A session of the test's own on the database (closed at dispose). */
  readonly sql: postgres.Sql;
}

let counter = 0;

/** Creates an empty database named after the test process and a counter. */
export async function testDatabase(): Promise<TestDatabase> {
  const name = `ztick_t${Deno.pid}_${++counter}_${
    Math.floor(Math.random() * 1e6)
  }`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin`create database ${admin(name)}`;
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const sql = postgres(url.href, { max: 2, onnotice: () => {} });
  return {
    name,
    url: url.href,
    sql,
    async [Symbol.asyncDispose]() {
      await sql.end({ timeout: 1 });
      const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      try {
        await admin`drop database if exists ${admin(name)} with (force)`;
      } finally {
        await admin.end();
      }
    },
  };
}
