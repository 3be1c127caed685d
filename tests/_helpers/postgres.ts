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

/** The superuser a fresh machine's PostgreSQL trusts on 127.0.0.1. */
const SUPERUSER_URL = "postgres://postgres@127.0.0.1:5432/postgres";

let counter = 0;
let roleChecked: Promise<void> | undefined;

/**
 * Makes the tests' role and database when they are missing, as
 * `.ci/postgres.sh` does, through the superuser (a fresh machine trusts
 * local connections), so that `deno task test` needs no set-up step.
 */
async function ensureRole(): Promise<void> {
  const probe = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await probe`select 1`;
    return;
  } catch (error) {
    const code = (error as { code?: string }).code;
    // 28000: no such role; 3D000: no such database.
    if (code !== "28000" && code !== "3D000") throw error;
  } finally {
    await probe.end();
  }
  const superuser = postgres(SUPERUSER_URL, { max: 1, onnotice: () => {} });
  try {
    const role = new URL(ADMIN_URL).username;
    const db = new URL(ADMIN_URL).pathname.slice(1);
    const [found] =
      await superuser`select 1 from pg_roles where rolname = ${role}`;
    if (!found) await superuser`create role ${superuser(role)} login createdb`;
    const [dbFound] =
      await superuser`select 1 from pg_database where datname = ${db}`;
    if (!dbFound) {
      await superuser`create database ${superuser(db)} owner ${
        superuser(role)
      }`;
    }
  } catch (error) {
    throw new Error(
      `cannot create the tests' role and database (run .ci/postgres.sh as root): ${error}`,
    );
  } finally {
    await superuser.end();
  }
}

/** Creates an empty database named after the test process and a counter. */
export async function testDatabase(): Promise<TestDatabase> {
  await (roleChecked ??= ensureRole());
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
