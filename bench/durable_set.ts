/**
 * Durable SET throughput: ztick with `fsync_on_persist = true`, driven by 1,
 * 10 and 50 request/response connections (each sends one SET, waits for
 * `OK`, repeats), against the raw fsync rate of the same disk measured in
 * the same run (write 100 bytes + fdatasync, in a loop). Group commit
 * (spec: persistence.md §5) should let many connections share one fsync, so
 * the 50-connection rate should be a multiple of the raw fsync rate.
 *
 * Run: `deno run -A bench/durable_set.ts [--seconds 3] [--reps 3] [--dir DIR]`
 * (DIR: where the logfile goes; by default a temp dir, which should be on
 * the same disk as the repository: the script says whether it is).
 *
 * @module
 */
import { parseArgs } from "node:util";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const REPO = new URL("..", import.meta.url).pathname;
/** 2100-01-01T00:00:00Z: no job of the benchmark ever falls due. */
const FAR_NS = 4_102_444_800_000_000_000n;
const CONNECTIONS = [1, 10, 50];
/** Job ids per connection: the job table stays small however long it runs. */
const KEYS_PER_CONNECTION = 1000;
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

interface Settings {
  readonly seconds: number;
  readonly reps: number;
  readonly fsyncSeconds: number;
  readonly dir: string | undefined;
}

function readSettings(args: string[]): Settings {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: "string", default: "3" },
      reps: { type: "string", default: "3" },
      "fsync-seconds": { type: "string", default: "2" },
      dir: { type: "string" },
    },
  });
  const positive = (name: string, text: string) => {
    const value = Number(text);
    if (!(value > 0)) {
      throw new Error(`Cannot use --${name} "${text}": not a positive number`);
    }
    return value;
  };
  return {
    seconds: positive("seconds", values.seconds),
    reps: Math.round(positive("reps", values.reps)),
    fsyncSeconds: positive("fsync-seconds", values["fsync-seconds"]),
    dir: values.dir,
  };
}

function print(text: string): void {
  const bytes = ENCODER.encode(text);
  for (let written = 0; written < bytes.length;) {
    written += Deno.stdout.writeSync(bytes.subarray(written));
  }
}

/** The daemon as a child process, as users run it. */
class Daemon implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<void>;
  readonly port: number;

  private constructor(
    child: Deno.ChildProcess,
    drained: Promise<void>,
    port: number,
  ) {
    this.#child = child;
    this.#drained = drained;
    this.port = port;
  }

  /** Starts `ztick -c <config>` and waits for `listening on host:port`. */
  static async start(config: string): Promise<Daemon> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-q", "-A", MAIN, "-c", config],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.getReader();
    let log = "";
    let port: number | undefined;
    const deadline = Date.now() + 30_000;
    while (port === undefined) {
      const { value, done } = await reader.read();
      if (done || Date.now() > deadline) {
        child.kill("SIGKILL");
        await child.status;
        throw new Error(`Cannot start the daemon:\n${log}`);
      }
      log += DECODER.decode(value, { stream: true });
      const match = log.match(/\[INFO\] listening on \S+:(\d+)\n/);
      if (match) port = Number(match[1]);
    }
    // Keep reading its log, so the pipe never fills up and stalls it.
    const drained = (async () => {
      while (!(await reader.read()).done);
    })();
    return new Daemon(child, drained, port);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.#child.status;
    await this.#drained;
  }
}

/** One connection: SET, wait for its `OK`, repeat until `untilMs`. */
async function driveConnection(
  conn: Deno.TcpConn,
  index: number,
  untilMs: number,
): Promise<number> {
  const buffer = new Uint8Array(256);
  let count = 0;
  while (performance.now() < untilMs) {
    const requestId = `r${count}`;
    const key = `bench.${index}.${count % KEYS_PER_CONNECTION}`;
    const line = ENCODER.encode(
      `${requestId} SET ${key} ${FAR_NS + BigInt(count)}\n`,
    );
    for (let written = 0; written < line.length;) {
      written += await conn.write(line.subarray(written));
    }
    let answer = "";
    while (!answer.endsWith("\n")) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("The daemon closed the connection");
      answer += DECODER.decode(buffer.subarray(0, n));
    }
    if (answer !== `${requestId} OK\n`) {
      throw new Error(`Unexpected answer ${JSON.stringify(answer)}`);
    }
    count++;
  }
  return count;
}

/** Acknowledged SETs per second with `connections` request/response clients. */
async function measureSets(
  port: number,
  connections: number,
  seconds: number,
): Promise<number> {
  const conns = await Promise.all(
    Array.from({ length: connections }, async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.setNoDelay(true);
      return conn;
    }),
  );
  try {
    const startMs = performance.now();
    const untilMs = startMs + seconds * 1000;
    const counts = await Promise.all(
      conns.map((conn, i) => driveConnection(conn, i, untilMs)),
    );
    const elapsedS = (performance.now() - startMs) / 1000;
    return counts.reduce((a, b) => a + b, 0) / elapsedS;
  } finally {
    for (const conn of conns) conn.close();
  }
}

/** Appends of 100 bytes, each followed by fdatasync, per second. */
function measureFsync(dir: string, seconds: number): number {
  const path = `${dir}/fsync-probe`;
  const file = Deno.openSync(path, {
    append: true,
    create: true,
    mode: 0o600,
  });
  const record = ENCODER.encode(`${"x".repeat(99)}\n`);
  let count = 0;
  const startMs = performance.now();
  const untilMs = startMs + seconds * 1000;
  try {
    while (performance.now() < untilMs) {
      for (let written = 0; written < record.length;) {
        written += file.writeSync(record.subarray(written));
      }
      file.syncDataSync();
      count++;
    }
  } finally {
    file.close();
    Deno.removeSync(path);
  }
  return count / ((performance.now() - startMs) / 1000);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function rate(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

async function main(): Promise<void> {
  const settings = readSettings(Deno.args);
  const dir = settings.dir ??
    await Deno.makeTempDir({ prefix: "ztick-durable-set-" });
  const ownDir = settings.dir === undefined;
  try {
    const sameDevice = Deno.statSync(dir).dev === Deno.statSync(REPO).dev;
    const config = `${dir}/ztick.toml`;
    await Deno.writeTextFile(
      config,
      `[controller]\nlisten = "127.0.0.1:0"\n` +
        `[database]\nlogfile_path = "${dir}/logfile"\n` +
        `fsync_on_persist = true\ncompression_interval = 0\n`,
    );
    const sets = new Map<number, number[]>(CONNECTIONS.map((c) => [c, []]));
    const fsyncs: number[] = [];
    {
      await using daemon = await Daemon.start(config);
      await measureSets(daemon.port, 10, 0.5); // warm-up: JIT, page cache
      for (let rep = 0; rep < settings.reps; rep++) {
        // Interleaved, so a drift of the disk shows in every column alike.
        fsyncs.push(measureFsync(dir, settings.fsyncSeconds));
        for (const connections of CONNECTIONS) {
          sets.get(connections)!.push(
            await measureSets(daemon.port, connections, settings.seconds),
          );
        }
        print(`rep ${rep + 1}/${settings.reps} done\n`);
      }
    }
    const fsync = median(fsyncs);
    const at50 = median(sets.get(50)!);
    print(
      `\n## Durable SET throughput (fsync_on_persist = true)\n\n` +
        `Logfile in ${dir} (same device as the repository: ${
          sameDevice ? "yes" : "NO"
        }); ${settings.seconds} s per run, median of ${settings.reps}; ` +
        `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs.\n\n` +
        `| Load | Median /s | Runs /s | Mean latency |\n` +
        `|---|---:|---|---:|\n`,
    );
    for (const connections of CONNECTIONS) {
      const runs = sets.get(connections)!;
      const value = median(runs);
      print(
        `| SET, ${connections} connection${connections > 1 ? "s" : ""} | ` +
          `${rate(value)} | ${runs.map(rate).join(" / ")} | ` +
          `${(connections / value * 1000).toFixed(2)} ms |\n`,
      );
    }
    print(
      `| raw fsync (100 B write + fdatasync) | ${rate(fsync)} | ` +
        `${fsyncs.map(rate).join(" / ")} | ${
          (1000 / fsync).toFixed(2)
        } ms |\n` +
        `\nRatio: 50-connection SET/s ÷ raw fsync/s = ` +
        `**${(at50 / fsync).toFixed(2)}** ` +
        `(1 connection: ${(median(sets.get(1)!) / fsync).toFixed(2)})\n`,
    );
  } finally {
    if (ownDir) await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
