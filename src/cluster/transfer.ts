/**
 * `ztick import` and `ztick export` (spec: cluster.md §6): a logfile's
 * live state into an empty database, and a database's state out as
 * canonical logfile records.
 *
 * @module
 */
import { writeAll } from "../io.ts";
import { LiveRecords } from "../persistence/live_records.ts";
import { formatRecord } from "../persistence/record.ts";
import { replayLogfileInto } from "../persistence/replay.ts";
import { StartupError } from "../startup.ts";
import { connectPg } from "./pg.ts";
import { PgJournal } from "./pg_journal.ts";
import { isEmpty, storedMutations } from "./pg_state.ts";
import { ensureSchema } from "./schema.ts";

/** Records committed per transaction by import. */
const IMPORT_GROUP = 5000;
const ENCODER = new TextEncoder();

/**
 * Loads the live state of `logfile` into the empty database at `url`.
 *
 * @throws {StartupError} `database is not empty`, connection errors.
 */
export async function runImport(
  logfile: string,
  url: string,
  history = 1000,
): Promise<number> {
  const live = new LiveRecords(history);
  const warnings = await replayLogfileInto(logfile, (m) => live.add(m));
  for (const warning of warnings) {
    await writeAll(Deno.stderr, ENCODER.encode(`warning: ${warning}\n`));
  }
  const sql = await connectPg(url);
  try {
    await ensureSchema(sql);
    if (!await isEmpty(sql)) throw new StartupError("database is not empty");
    const journal = new PgJournal(sql, { url, history });
    let pending: Promise<void>[] = [];
    for (const mutation of live.take()) {
      pending.push(journal.append(mutation));
      if (pending.length >= IMPORT_GROUP) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
    await journal.close();
  } finally {
    await sql.end({ timeout: 1 });
  }
  return 0;
}

/** Prints the database's state as canonical logfile records on `out`. */
export async function runExport(
  url: string,
  out: { write(bytes: Uint8Array): Promise<number> } = Deno.stdout,
): Promise<number> {
  const sql = await connectPg(url);
  try {
    await ensureSchema(sql);
    let chunk = "";
    for await (const mutation of storedMutations(sql)) {
      chunk += `${formatRecord(mutation)}\n`;
      if (chunk.length >= 65536) {
        await writeAll(out, ENCODER.encode(chunk));
        chunk = "";
      }
    }
    await writeAll(out, ENCODER.encode(chunk));
  } finally {
    await sql.end({ timeout: 1 });
  }
  return 0;
}
