/**
 * Child processes and temp dirs of a benchmark run: spawn with captured
 * output lines, wait for a readiness line, stop by PID, clean up at the end
 * (also on Ctrl-C).
 *
 * @module
 */

const DECODER = new TextDecoder();
const TAIL_LINES = 400;

/** One output line of a child, with its arrival time (`performance.now()`). */
export interface OutputLine {
  readonly text: string;
  readonly atMs: number;
}

interface Watcher {
  readonly pattern: RegExp;
  readonly resolve: (line: OutputLine & { match: RegExpMatchArray }) => void;
}

/** A child process whose stdout and stderr are read line by line. */
export class Proc {
  readonly name: string;
  readonly child: Deno.ChildProcess;
  readonly spawnedMs: number;
  /** The last lines of output, oldest first. */
  readonly tail: OutputLine[] = [];
  readonly #watchers = new Set<Watcher>();
  readonly #listeners = new Set<(line: OutputLine) => void>();
  readonly #drained: Promise<void>;
  #exited = false;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(name: string, command: string, args: string[], options: {
    cwd?: string;
    env?: Record<string, string>;
  } = {}) {
    this.name = name;
    this.spawnedMs = performance.now();
    const pinned = serverCpus === undefined
      ? { command, args }
      : { command: "taskset", args: ["-c", serverCpus, command, ...args] };
    this.child = new Deno.Command(pinned.command, {
      args: pinned.args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
    }).spawn();
    this.status = this.child.status.then((status) => {
      this.#exited = true;
      return status;
    });
    this.#drained = Promise.all([
      this.#pump(this.child.stdout),
      this.#pump(this.child.stderr),
    ]).then(() => {});
    LIVE.add(this);
  }

  get pid(): number {
    return this.child.pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Calls `fn` for every later output line; returns the unsubscribe. */
  onLine(fn: (line: OutputLine) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Resolves with the first output line (from now on) matching `pattern`;
   * rejects after `timeoutMs` or if the process exits first.
   */
  waitForLine(
    pattern: RegExp,
    timeoutMs: number,
  ): Promise<OutputLine & { match: RegExpMatchArray }> {
    const { promise, resolve, reject } = Promise.withResolvers<
      OutputLine & { match: RegExpMatchArray }
    >();
    const watcher: Watcher = { pattern, resolve };
    this.#watchers.add(watcher);
    const timer = setTimeout(() => {
      this.#watchers.delete(watcher);
      reject(
        new Error(
          `${this.name}: no line matching ${pattern} within ${timeoutMs} ms; output tail:\n${
            this.tailText(20)
          }`,
        ),
      );
    }, timeoutMs);
    this.status.then((status) => {
      if (!this.#watchers.has(watcher)) return;
      this.#watchers.delete(watcher);
      reject(
        new Error(
          `${this.name} exited (code ${status.code}) before ${pattern}; output tail:\n${
            this.tailText(20)
          }`,
        ),
      );
    });
    return promise.finally(() => clearTimeout(timer));
  }

  /** The last `n` output lines as text. */
  tailText(n: number): string {
    return this.tail.slice(-n).map((l) => `  ${l.text}`).join("\n");
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 10_000): Promise<Deno.CommandStatus> {
    if (!this.#exited) {
      try {
        this.child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          this.child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, graceMs);
      await this.status;
      clearTimeout(timer);
    }
    await this.#drained;
    LIVE.delete(this);
    return await this.status;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let partial = "";
    try {
      for await (const chunk of stream) {
        const atMs = performance.now();
        const text = partial + DECODER.decode(chunk, { stream: true });
        const parts = text.split("\n");
        partial = parts.pop() ?? "";
        for (const part of parts) this.#line({ text: part, atMs });
      }
    } catch { /* stream closed */ }
    if (partial !== "") this.#line({ text: partial, atMs: performance.now() });
  }

  #line(line: OutputLine): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    for (const listener of this.#listeners) listener(line);
    for (const watcher of this.#watchers) {
      const match = line.text.match(watcher.pattern);
      if (match) {
        this.#watchers.delete(watcher);
        watcher.resolve({ ...line, match });
      }
    }
  }
}

const LIVE = new Set<Proc>();
let serverCpus: string | undefined;

/**
 * From now on, children started as {@link Proc} run under `taskset -c
 * <cpus>` (undefined: no pinning).
 */
export function pinServers(cpus: string | undefined): void {
  serverCpus = cpus;
}

/** Sets the CPU affinity of every thread of this process (`taskset -a`). */
export async function pinSelf(cpus: string): Promise<void> {
  const out = await capture("taskset", ["-a", "-cp", cpus, String(Deno.pid)]);
  if (out === undefined) throw new Error(`taskset -a -cp ${cpus} failed`);
}
const TEMP_DIRS = new Set<string>();

/** Makes a temp dir that {@link cleanUp} removes. */
export async function tempDir(
  prefix: string,
  parent?: string,
): Promise<string> {
  const dir = await Deno.makeTempDir({
    prefix: `ztick_bench_${prefix}_`,
    ...(parent ? { dir: parent } : {}),
  });
  TEMP_DIRS.add(dir);
  return dir;
}

/** Removes a temp dir made by {@link tempDir} now. */
export async function removeDir(dir: string): Promise<void> {
  TEMP_DIRS.delete(dir);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/** Stops every child still running (by PID) and removes every temp dir. */
export async function cleanUp(): Promise<void> {
  await Promise.all([...LIVE].map((proc) => proc.stop(3000)));
  await Promise.all([...TEMP_DIRS].map((dir) => removeDir(dir)));
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Resolves once 127.0.0.1:`port` accepts connections. */
export async function waitForTcp(
  port: number,
  timeoutMs: number,
  proc?: Proc,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch (error) {
      if (proc?.exited) {
        throw new Error(
          `${proc.name} exited before listening; output tail:\n${
            proc.tailText(20)
          }`,
        );
      }
      if (performance.now() > deadline) {
        throw new Error(`nothing listens on 127.0.0.1:${port}: ${error}`);
      }
      await sleep(20);
    }
  }
}

/**
 * Reads a file under /proc through `cat`: Deno 2 lets only --allow-all
 * read /proc directly, and the bench runs with --allow-run anyway.
 */
export async function readProc(path: string): Promise<string> {
  return (await capture("cat", [path])) ?? "";
}

/** Resident set size of a process in bytes (VmRSS), or NaN. */
export async function rssBytes(pid: number): Promise<number> {
  const kb = (await readProc(`/proc/${pid}/status`)).match(
    /^VmRSS:\s+(\d+)\s+kB/m,
  )?.[1];
  return kb === undefined ? NaN : Number(kb) * 1024;
}

/** Peak resident set size of a process in bytes (VmHWM), or NaN. */
export async function peakRssBytes(pid: number): Promise<number> {
  const kb = (await readProc(`/proc/${pid}/status`)).match(
    /^VmHWM:\s+(\d+)\s+kB/m,
  )?.[1];
  return kb === undefined ? NaN : Number(kb) * 1024;
}

/**
 * CPU time a process has used so far (user + system, all threads), in ms:
 * `/proc/<pid>/stat` counts clock ticks of 1/100 s (`USER_HZ` on Linux).
 */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readProc(`/proc/${pid}/stat`);
  // Fields after the command name, which may hold spaces: state is 3rd.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs a command to completion and returns its trimmed stdout, or undefined. */
export async function capture(
  command: string,
  args: string[],
): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) return undefined;
    return DECODER.decode(out.stdout).trim();
  } catch {
    return undefined;
  }
}

/** Share (0–1) of all CPUs busy over the next `ms`, from /proc/stat. */
export async function cpuBusy(ms: number): Promise<number> {
  const read = async () => {
    const line = (await readProc("/proc/stat")).split("\n")[0] ?? "";
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { total, idle };
  };
  const a = await read();
  await sleep(ms);
  const b = await read();
  const total = b.total - a.total;
  return total <= 0 ? NaN : 1 - (b.idle - a.idle) / total;
}

/**
 * Waits (up to `maxWaitMs`) until other processes leave the CPUs mostly
 * idle; returns the last busy share seen. Call it while no child of the
 * bench runs.
 */
export async function waitForQuiet(
  options: { threshold: number; maxWaitMs: number; log: (t: string) => void },
): Promise<number> {
  const deadline = performance.now() + options.maxWaitMs;
  let busy = await cpuBusy(500);
  let warned = false;
  while (busy > options.threshold && performance.now() < deadline) {
    if (!warned) {
      options.log(
        `  machine busy (${
          (busy * 100).toFixed(0)
        }% CPU used by others); waiting up to ${
          Math.round(options.maxWaitMs / 1000)
        } s for quiet`,
      );
      warned = true;
    }
    busy = await cpuBusy(1000);
  }
  return busy;
}
