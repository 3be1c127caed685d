/**
 * What execution history costs on disk: the logfile after N executions
 * (default 100,000) with `[execution] history = 10` and `= 0`, for
 * webhooks that succeed (204) and that fail (503, so each run carries a
 * message), appended and after a compaction. Prints a Markdown table.
 *
 *   deno run -A bench/history_logfile.ts [--jobs N] [--histories 10,0]
 *     [--statuses 204,503] [--cpu-prof DIR]
 *
 * The http runner is used because spawning processes would take minutes
 * for 100,000 executions; what a run record costs does not depend on the
 * runner beyond its rule id, detail and message. fsync is off: it changes
 * the time, not the bytes.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { LineClient, sendLines } from "./_load.ts";
import { removeDir, sleep } from "./_procs.ts";
import { startZtick } from "./_ztick.ts";

/** 2024-03-28 08:00:00 UTC: in the past, so due at once. */
const PAST_NS = "1711612800000000000";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    jobs: { type: "string", default: "100000" },
    histories: { type: "string", default: "10,0" },
    statuses: { type: "string", default: "204,503" },
    "cpu-prof": { type: "string" },
  },
});
const jobs = Number(values.jobs);
const histories = values.histories.split(",").map(Number);
const statuses = values.statuses.split(",").map(Number);

interface Row {
  readonly history: number;
  readonly status: number;
  readonly appendedBytes: number;
  readonly compactedBytes: number;
  readonly seconds: number;
}

async function measure(history: number, status: number): Promise<Row> {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(null, { status }),
  );
  const cpuProfDir = values["cpu-prof"];
  const daemon = await startZtick({
    fsync: false,
    history,
    ...(cpuProfDir
      ? { cpuProfDir: `${cpuProfDir}/h${history}-${status}` }
      : {}),
  });
  const client = await LineClient.open(daemon.port);
  let seconds: number;
  try {
    await client.request(
      `r RULE SET rule.hook bench. http POST http://127.0.0.1:${server.addr.port}/hook`,
    );
    const lines = Array.from(
      { length: jobs },
      (_, i) => `x SET bench.h.${String(i).padStart(8, "0")} ${PAST_NS}`,
    );
    const startMs = performance.now();
    const sent = await sendLines(daemon.port, lines);
    if (sent.errors > 0) throw new Error(`${sent.errors} SETs answered ERROR`);
    for (;;) {
      const stat = await client.stat();
      const ended = Number(stat.get("jobs_executed")) +
        Number(stat.get("jobs_failed"));
      if (ended >= jobs) break;
      await sleep(50);
    }
    seconds = (performance.now() - startMs) / 1000;
  } finally {
    client.close();
    await daemon.stop();
  }
  const appendedBytes = (await Deno.stat(daemon.logfile)).size;
  const again = await startZtick({
    fsync: false,
    history,
    dir: daemon.dir,
    compressionIntervalS: 1,
  });
  await again.proc.waitForLine(/logfile: compacted to/, 120_000);
  await again.stop();
  const compactedBytes = (await Deno.stat(daemon.logfile)).size;
  await removeDir(daemon.dir);
  return { history, status, appendedBytes, compactedBytes, seconds };
}

const rows: Row[] = [];
for (const status of statuses) {
  for (const history of histories) {
    Deno.stderr.writeSync(
      new TextEncoder().encode(`history ${history}, http ${status}…\n`),
    );
    rows.push(await measure(history, status));
  }
}
const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
// deno-lint-ignore no-console
console.log(
  [
    `| ${
      jobs.toLocaleString("en-US")
    } executions | history | logfile appended | per execution | after compaction | executions/s |`,
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((row) =>
      `| webhook ${row.status} | ${row.history} | ${
        mib(row.appendedBytes)
      } MiB | ${Math.round(row.appendedBytes / jobs)} B | ${
        mib(row.compactedBytes)
      } MiB | ${Math.round(jobs / row.seconds).toLocaleString("en-US")} |`
    ),
  ].join("\n"),
);
