/**
 * Postgres mode (cluster.md) measured: durable SET throughput with 1, 10
 * and 50 request/response connections next to logfile mode (fsync on)
 * and Redis `appendfsync always` in the same run, alternated; the
 * failover time over N SIGKILLs of the leader (3 nodes, lease 1s); and the
 * state load of 100,000 and 1,000,000 jobs.
 *
 * Run: `deno run --lock=dev.lock -A bench/postgres_ha.ts [--seconds 3]
 * [--reps 2] [--kills 20] [--load 100000,1000000] [--only set,failover,load]`
 * (needs the PostgreSQL of `.ci/postgres.sh`). Markdown on stdout.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { connectPg } from "../src/cluster/pg.ts";
import { loadState } from "../src/cluster/pg_state.ts";
import { JobStore } from "../src/scheduler/job_store.ts";
import { tempDir, writeFile } from "../tests/_helpers/fs.ts";
import { testDatabase } from "../tests/_helpers/postgres.ts";
import { DaemonProcess, runZtick } from "../tests/_helpers/subprocess.ts";
import { startNode, waitForLeader } from "../tests/e2e/_cluster.ts";
import { startRedis } from "./_peers.ts";

const FAR_NS = 4_102_444_800_000_000_000n;
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

function log(text: string): void {
  Deno.stderr.writeSync(ENCODER.encode(`${text}\n`));
}
function print(text: string): void {
  Deno.stdout.writeSync(ENCODER.encode(`${text}\n`));
}

/** One closed-loop connection: request, wait for the answer, repeat. */
async function loop(
  port: number,
  request: (n: number) => string,
  expect: RegExp,
  until: number,
  c: number,
): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const buffer = new Uint8Array(4096);
  let done = 0;
  try {
    while (performance.now() < until) {
      await conn.write(ENCODER.encode(request(c * 1_000_000 + done)));
      let text = "";
      while (!text.includes("\n")) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error("connection closed");
        text += DECODER.decode(buffer.subarray(0, n));
      }
      if (!expect.test(text)) throw new Error(`unexpected answer ${text}`);
      done++;
    }
  } finally {
    conn.close();
  }
  return done;
}

async function rate(
  port: number,
  wire: { request: (n: number) => string; expect: RegExp },
  connections: number,
  seconds: number,
): Promise<number> {
  const until = performance.now() + seconds * 1000;
  const counts = await Promise.all(
    Array.from(
      { length: connections },
      (_, c) => loop(port, wire.request, wire.expect, until, c),
    ),
  );
  return counts.reduce((a, b) => a + b, 0) / seconds;
}

/** One SET, `true` when acknowledged. */
async function oneSet(port: number): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(ENCODER.encode(`r SET failover.probe ${FAR_NS}\n`));
    const buffer = new Uint8Array(256);
    const n = await conn.read(buffer);
    return n !== null && DECODER.decode(buffer.subarray(0, n)) === "r OK\n";
  } finally {
    conn.close();
  }
}

const ZTICK = {
  request: (n: number) => `r SET bench.${n} ${FAR_NS}\n`,
  expect: /^r OK\n$/,
};
const REDIS = {
  request: (n: number) =>
    `*4\r\n$4\r\nZADD\r\n$4\r\njobs\r\n$19\r\n${FAR_NS}\r\n$${
      `b${n}`.length
    }\r\nb${n}\r\n`,
  expect: /^:[01]\r\n$/,
};

/** A daemon of this configuration, until disposed. */
async function ztick(dir: string, database: string) {
  const config = await writeFile(
    `${dir}/ztick.toml`,
    `[log]\nlevel = "info"\n[controller]\nlisten = "127.0.0.1:0"\n` +
      `[database]\n${database}\ncompression_interval = 0\n`,
  );
  return await DaemonProcess.start(config);
}

async function benchSet(seconds: number, reps: number): Promise<void> {
  await using dir = await tempDir("ztick-bench-");
  await using db = await testDatabase();
  const targets = {
    "postgres": () =>
      ztick(
        dir.path,
        `persistence = "postgres"\npostgres_url = "${db.url}"`,
      ),
    "logfile fsync": () =>
      ztick(dir.path, `logfile_path = "${dir.path}/logfile"`),
  };
  const redis = await startRedis("always");
  const figures = new Map<string, number[]>();
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const [name, start] of Object.entries(targets)) {
        const daemon = await start();
        try {
          for (const c of [1, 10, 50]) {
            const r = await rate(daemon.port, ZTICK, c, seconds);
            log(`${name} ${c} conn: ${r.toFixed(0)}/s`);
            figures.set(`${name}|${c}`, [
              ...figures.get(`${name}|${c}`) ?? [],
              r,
            ]);
          }
        } finally {
          await daemon.stop();
        }
      }
      for (const c of [1, 10, 50]) {
        const r = await rate(redis.port, REDIS, c, seconds);
        log(`redis always ${c} conn: ${r.toFixed(0)}/s`);
        figures.set(`redis always|${c}`, [
          ...figures.get(`redis always|${c}`) ?? [],
          r,
        ]);
      }
    }
  } finally {
    await redis.stop();
  }
  print(
    `| durable SET/s (median of ${reps}, upper for 2) | 1 conn | 10 conn | 50 conn |`,
  );
  print("|---|---|---|---|");
  for (const name of ["postgres", "logfile fsync", "redis always"]) {
    const cells = [1, 10, 50].map((c) =>
      median(figures.get(`${name}|${c}`) ?? []).toFixed(0)
    );
    print(`| ${name} | ${cells.join(" | ")} |`);
  }
}

async function benchFailover(kills: number): Promise<void> {
  await using dir = await tempDir("ztick-bench-");
  await using db = await testDatabase();
  const nodes = [];
  for (const id of ["a", "b", "c"]) {
    nodes.push(await startNode(dir.path, db.url, { id, lease: "1s" }));
  }
  const times: number[] = [];
  try {
    for (let k = 0; k < kills; k++) {
      const leader = await waitForLeader(nodes);
      const killed = performance.now();
      await leader.process.stop("SIGKILL");
      const rest = nodes.filter((node) => node !== leader);
      for (;;) {
        const next = await waitForLeader(rest);
        try {
          if (await oneSet(next.port)) break;
        } catch { /* stepped down meanwhile */ }
      }
      times.push(performance.now() - killed);
      log(`kill ${k + 1}: ${times.at(-1)!.toFixed(0)} ms`);
      leader.process = (await startNode(dir.path, db.url, {
        id: leader.id,
        lease: "1s",
        port: leader.port,
        httpPort: leader.httpPort,
      })).process;
    }
  } finally {
    for (const node of nodes) await node.process.stop("SIGKILL");
  }
  times.sort((a, b) => a - b);
  const at = (q: number) =>
    times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(0);
  print(
    `\nfailover, lease 1s, ${kills} SIGKILLs (ms from kill to first acknowledged SET):`,
  );
  print(
    `min ${at(0)}, median ${at(0.5)}, p90 ${at(0.9)}, max ${
      times.at(-1)!.toFixed(0)
    }`,
  );
}

async function benchLoad(sizes: number[]): Promise<void> {
  print("\n| jobs | import (s) | state load (s) | loaded jobs/s |");
  print("|---|---|---|---|");
  for (const n of sizes) {
    await using dir = await tempDir("ztick-bench-");
    await using db = await testDatabase();
    const lines = ['RULE SET rule.a bench. shell "true"'];
    for (let i = 0; i < n; i++) {
      lines.push(`SET bench.${i} ${FAR_NS + BigInt(i)} planned`);
    }
    const logfile = await writeFile(
      `${dir.path}/logfile`,
      lines.join("\n") + "\n",
    );
    let started = performance.now();
    const imported = await runZtick(["import", logfile, "--postgres", db.url]);
    if (imported.code !== 0) throw new Error(imported.stderr);
    const importS = (performance.now() - started) / 1000;
    const sql = await connectPg(db.url);
    try {
      const store = new JobStore();
      started = performance.now();
      await loadState(sql, (m) => store.apply(m));
      const loadS = (performance.now() - started) / 1000;
      print(
        `| ${n} | ${importS.toFixed(1)} | ${loadS.toFixed(2)} | ${
          (n / loadS).toFixed(0)
        } |`,
      );
    } finally {
      await sql.end();
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "3" },
    reps: { type: "string", default: "2" },
    kills: { type: "string", default: "20" },
    load: { type: "string", default: "100000,1000000" },
    only: { type: "string", default: "set,failover,load" },
  },
});
const only = values.only.split(",");
if (only.includes("set")) {
  await benchSet(Number(values.seconds), Number(values.reps));
}
if (only.includes("failover")) await benchFailover(Number(values.kills));
if (only.includes("load")) await benchLoad(values.load.split(",").map(Number));
