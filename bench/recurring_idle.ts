/**
 * Idle cost of recurring jobs: starts the daemon as `deno task start`
 * does, loads N jobs (default 100,000) that are not due for months, one
 * daemon with one-shot jobs (SET), one with recurring jobs (CRON, one
 * schedule each of a handful), then reads the daemon's CPU time
 * (utime + stime, /proc) over `seconds` (default 10) while nothing is due.
 * The two kinds alternate, `rounds` times (default 2). Issue 14: the
 * single timer and heap make both cost the same.
 *
 *     deno run -A bench/recurring_idle.ts [N] [seconds] [rounds]
 *
 * @module
 */
import { startZtick } from "./_ztick.ts";

const count = Number(Deno.args[0] ?? 100_000);
const seconds = Number(Deno.args[1] ?? 10);
const rounds = Number(Deno.args[2] ?? 2);
const TICKS_PER_S = 100; // sysconf(_SC_CLK_TCK) on Linux
/** 1 January next year and later: never due during a run. */
const FAR_NS = BigInt(Date.UTC(new Date().getUTCFullYear() + 1, 0, 1)) *
  1_000_000n;
const SCHEDULES = ["0 3 1 1 *", "0 4 1 1 *", "30 2 1 1 *", "@yearly"];

function cpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[11], fields[12]: utime, stime (14th and 15th of the whole line)
  return (Number(fields[11]) + Number(fields[12])) * 1000 / TICKS_PER_S;
}

function line(kind: string, i: number): string {
  return kind === "one-shot"
    ? `r SET job.${i} ${FAR_NS + BigInt(i)}\n`
    : `r CRON job.${i} "${SCHEDULES[i % SCHEDULES.length]}"\n`;
}

/** Sends every request pipelined, in batches, and waits for the answers. */
async function load(port: number, kind: string): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(65536);
  let answered = 0;
  let text = "";
  const batch = 2000;
  for (let start = 0; start < count; start += batch) {
    let chunk = "";
    for (let i = start; i < Math.min(count, start + batch); i++) {
      chunk += line(kind, i);
    }
    await conn.write(encoder.encode(chunk));
    const target = Math.min(count, start + batch);
    while (answered < target) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("connection closed");
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
      const lines = text.split("\n");
      text = lines.pop()!;
      for (const answer of lines) {
        if (answer !== "r OK") throw new Error(`answer: ${answer}`);
        answered++;
      }
    }
  }
  conn.close();
}

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

const memory: Record<string, number[]> = { "one-shot": [], recurring: [] };

async function measure(kind: string): Promise<number> {
  const daemon = await startZtick({ fsync: false });
  try {
    await load(daemon.port, kind);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // settle, GC
    const pid = daemon.proc.pid;
    const before = cpuMs(pid);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const perSecond = (cpuMs(pid) - before) / seconds;
    memory[kind]!.push(rssMiB(pid));
    return perSecond;
  } finally {
    await daemon.stop();
  }
}

const results: Record<string, number[]> = { "one-shot": [], recurring: [] };
for (let round = 0; round < rounds; round++) {
  for (
    const kind of round % 2 === 0
      ? ["one-shot", "recurring"]
      : ["recurring", "one-shot"]
  ) {
    results[kind]!.push(await measure(kind));
  }
}
for (const [kind, values] of Object.entries(results)) {
  // deno-lint-ignore no-console
  console.log(
    `${count} ${kind} jobs idle: ${
      values.map((ms) => ms.toFixed(1)).join(", ")
    } ms CPU per second (${seconds} s each); RSS ${
      memory[kind]!.map((mib) => mib.toFixed(0)).join(", ")
    } MiB`,
  );
}
