/**
 * Group commit, seen from the kernel: how many records each fsync carries
 * while 50 request/response connections send durable SETs (ztick with
 * `fsync_on_persist = true`, and Redis `appendfsync always` with ZADD for
 * comparison). `perf record` follows the server's `write` and `fdatasync`
 * syscalls (tracepoints, no slowdown worth naming); the bytes written to
 * the fsynced file between two fsyncs, divided by the fixed length of one
 * record, are one group. Writes of a whole zero extent (ztick's
 * preallocation) are counted apart.
 *
 * Run (root, or perf_event_paranoid ≤ 1):
 * `deno run -A bench/group_sizes.ts [--root CHECKOUT] [--seconds 5] [--redis]
 * [--connections 50]`
 * — `--root` starts the daemon of another checkout (A/B).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { encodePool, runRequestResponse, type Wire } from "./_load.ts";
import { startRedis } from "./_peers.ts";
import { tempDir } from "./_procs.ts";
import { PROJECT_ROOT, startZtick } from "./_ztick.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    root: { type: "string", default: PROJECT_ROOT },
    seconds: { type: "string", default: "5" },
    redis: { type: "boolean", default: false },
    connections: { type: "string", default: "50" },
  },
});
const seconds = Number(values.seconds);
const ID_WIDTH = 24;
const FAR_NS = "4102444800000000000";
const pad = (id: string) => id.padEnd(ID_WIDTH, "_");
/** Fixed-length requests, so bytes per group tell records per group. */
const SET: Wire = {
  name: "ztick SET",
  expect: "r OK",
  request: (id) => `r SET ${pad(id)} ${FAR_NS}\n`,
};
const ZADD: Wire = {
  name: "Redis ZADD",
  expect: ":",
  request: (id) => {
    const args = ["ZADD", "bench", FAR_NS, pad(id)];
    return `*${args.length}\r\n` +
      args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
  },
};
const ZTICK_RECORD = `SET ${pad("x")} ${FAR_NS} planned\n`.length;
// Redis appends the command to its AOF in RESP (ZADD key score member).
const REDIS_RECORD = ZADD.request("x").length;

/** Records per fsync while the load runs, from a perf trace of `pid`. */
async function traceGroups(
  pid: number,
  port: number,
  wire: Wire,
  recordBytes: number,
): Promise<{ groups: number[]; extents: number; rate: number }> {
  const data = `${await tempDir("perf")}/perf.data`;
  const perf = new Deno.Command("perf", {
    args: [
      "record",
      "-q",
      "-o",
      data,
      // System-wide: `-p` misses the threads started later (Deno's blocking
      // pool, where the fsync runs); the events are filtered by pid below.
      "-a",
      "-e",
      "syscalls:sys_enter_write",
      "-e",
      "syscalls:sys_enter_pwrite64",
      "-e",
      "syscalls:sys_enter_fdatasync",
      "-e",
      "syscalls:sys_enter_fsync",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  await new Promise((r) => setTimeout(r, 1000));
  const pool = encodePool(wire, `g${Date.now() % 100000}`, 400_000);
  const result = await runRequestResponse(port, pool, {
    connections: Number(values.connections),
    durationMs: seconds * 1000,
  });
  perf.kill("SIGINT");
  await perf.status;
  const script = await new Deno.Command("perf", {
    args: ["script", "-i", data, "-F", "pid,event,trace"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const lines = new TextDecoder().decode(script.stdout).split("\n");
  // Deno fsyncs a duplicate of the log's fd off the main thread, so the
  // log is the fd whose writes are all whole records (or whole extents)
  // and add up to the most bytes; every fsync in between ends a group.
  const ofPid = new RegExp(`^\\s*${pid}\\s`);
  const events: { fd: number; count: number }[] = [];
  const totals = new Map<number, number>();
  for (const line of lines) {
    if (!ofPid.test(line)) continue;
    if (/sys_enter_f(data)?sync/.test(line)) {
      events.push({ fd: -1, count: 0 });
      continue;
    }
    const fd = Number(line.match(/fd: (0x[0-9a-f]+)/)?.[1] ?? NaN);
    const count = Number(line.match(/count: (0x[0-9a-f]+)/)?.[1] ?? NaN);
    if (Number.isNaN(fd) || Number.isNaN(count)) continue;
    events.push({ fd, count });
    const whole = count % recordBytes === 0 || count >= 1 << 20;
    totals.set(fd, whole ? (totals.get(fd) ?? 0) + count : -Infinity);
  }
  const logFd = [...totals].sort((x, y) => y[1] - x[1])[0]?.[0];
  const groups: number[] = [];
  let extents = 0;
  let pending = 0;
  for (const { fd, count } of events) {
    if (fd === -1) {
      if (pending > 0) groups.push(pending / recordBytes);
      pending = 0;
    } else if (fd === logFd) {
      if (count >= 1 << 20) extents++;
      else pending += count;
    }
  }
  return { groups, extents, rate: result.perSecond };
}

function summary(
  name: string,
  { groups, extents, rate }: Awaited<ReturnType<typeof traceGroups>>,
): void {
  const sorted = [...groups].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))] ??
      0;
  const mean = groups.reduce((s, g) => s + g, 0) / Math.max(1, groups.length);
  const buckets = [1, 2, 4, 8, 16, 32, 50, Infinity];
  let low = 0;
  const shares = buckets.map((high) => {
    const n = groups.filter((g) => g > low && g <= high).length;
    const label = high === Infinity
      ? `>${low}`
      : low + 1 === high
      ? `${high}`
      : `${low + 1}-${high}`;
    low = high;
    return `${label}: ${(100 * n / Math.max(1, groups.length)).toFixed(1)}%`;
  });
  print(
    `${name}: ${Math.round(rate)} SET/s, ${groups.length} fsyncs (${
      (groups.length / seconds).toFixed(0)
    }/s), ` +
      `records per fsync mean ${mean.toFixed(2)}, p10 ${at(10)} p50 ${
        at(50)
      } p90 ${at(90)} max ${sorted.at(-1) ?? 0}; ` +
      `${shares.join(", ")}${extents > 0 ? `; ${extents} extents added` : ""}`,
  );
}

function print(text: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(`${text}\n`));
}

const daemon = await startZtick({ fsync: true, root: values.root });
try {
  summary(
    `ztick (${values.root})`,
    await traceGroups(daemon.proc.pid, daemon.port, SET, ZTICK_RECORD),
  );
} finally {
  await daemon.stop();
}
if (values.redis) {
  const redis = await startRedis("always");
  try {
    summary(
      "Redis always",
      await traceGroups(redis.proc.pid, redis.port, ZADD, REDIS_RECORD),
    );
  } finally {
    await redis.stop();
  }
}
