/**
 * Starts the ztick daemon the way a user does: `deno run … main.ts -c
 * <config>` in a subprocess, port 0, a real logfile in a temp dir; the port
 * comes from the `listening on` line.
 *
 * @module
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import { Proc, tempDir } from "./_procs.ts";

/** The project root (the folder holding main.ts). */
export const PROJECT_ROOT = fromFileUrl(new URL("../", import.meta.url));

/**
 * The flags `deno task start` runs the daemon with (permissions, V8 flags),
 * read from deno.json so the bench starts it exactly as a user does.
 */
export const DAEMON_FLAGS: readonly string[] = (() => {
  const config = JSON.parse(
    Deno.readTextFileSync(`${PROJECT_ROOT}deno.json`),
  ) as { tasks: { start: string } };
  const words = config.tasks.start.split(/\s+/);
  return words.slice(words.indexOf("run") + 1, words.indexOf("main.ts"));
})();

/** What differs between the daemons a run starts. */
export interface ZtickOptions {
  readonly fsync: boolean;
  /** `[database] compression_interval`; 0 (default here) disables it. */
  readonly compressionIntervalS?: number;
  /** `[log] level`; `info` is the lowest that prints `listening on`. */
  readonly logLevel?: string;
  readonly concurrency?: number;
  /** `[execution] history`; left out (the default, 10) unless given. */
  readonly history?: number;
  /** Reuse this dir (and its logfile) instead of a fresh temp dir. */
  readonly dir?: string;
  /** Write a V8 CPU profile into this dir (`--cpu-prof`). */
  readonly cpuProfDir?: string;
  /** Extra V8 flags, e.g. `--trace-gc` (diagnostics). */
  readonly v8Flags?: readonly string[];
  /** How long replay may take before `listening on`. */
  readonly startTimeoutMs?: number;
  /** Also serve the HTTP API on a free loopback port. */
  readonly http?: boolean;
  /** The checkout whose `main.ts` runs (A/B); this one by default. */
  readonly root?: string;
}

/** A running daemon. */
export interface Ztick {
  readonly proc: Proc;
  readonly port: number;
  /** The HTTP API's port (0 unless started with `http`). */
  readonly httpPort: number;
  readonly dir: string;
  readonly logfile: string;
  /** From spawn to the `listening on` line, in ms. */
  readonly startupMs: number;
  stop(): Promise<void>;
}

/**
 * `[telemetry]` of every daemon started from now on: export to this
 * endpoint (`bench/main.ts --telemetry`), or none.
 */
let telemetryEndpoint: string | undefined;

/** Turns OpenTelemetry export on (an endpoint) or off for later daemons. */
export function exportTelemetryTo(endpoint: string | undefined): void {
  telemetryEndpoint = endpoint;
}

/** Writes a config file and starts the daemon; resolves once it listens. */
export async function startZtick(options: ZtickOptions): Promise<Ztick> {
  const dir = options.dir ?? await tempDir("ztick");
  const logfile = `${dir}/logfile`;
  const configPath = `${dir}/ztick.toml`;
  await Deno.writeTextFile(
    configPath,
    [
      "[log]",
      `level = "${options.logLevel ?? "info"}"`,
      "[controller]",
      `listen = "127.0.0.1:0"`,
      "[database]",
      `persistence = "logfile"`,
      `logfile_path = "${logfile}"`,
      `fsync_on_persist = ${options.fsync}`,
      `compression_interval = ${options.compressionIntervalS ?? 0}`,
      "[execution]",
      `concurrency = ${options.concurrency ?? 16}`,
      ...(options.history === undefined
        ? []
        : [`history = ${options.history}`]),
      ...(options.http ? ["[http]", `listen = "127.0.0.1:0"`] : []),
      ...(telemetryEndpoint === undefined ? [] : [
        "[telemetry]",
        "enabled = true",
        `endpoint = "${telemetryEndpoint}"`,
      ]),
      "",
    ].join("\n"),
  );
  const v8Flags = DAEMON_FLAGS.filter((flag) => flag.startsWith("--v8-flags="))
    .map((flag) => flag.slice("--v8-flags=".length))
    .concat(options.v8Flags ?? []);
  const args = [
    "run",
    ...DAEMON_FLAGS.filter((flag) => !flag.startsWith("--v8-flags=")),
  ];
  if (options.cpuProfDir) {
    args.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`);
  }
  if (v8Flags.length > 0) args.push(`--v8-flags=${v8Flags.join(",")}`);
  args.push("main.ts", "-c", configPath);
  const proc = new Proc("ztick", Deno.execPath(), args, {
    cwd: options.root ?? PROJECT_ROOT,
    env: { RUST_BACKTRACE: "0" },
  });
  // Both watched from the start: the two lines may arrive in one read.
  const httpListening = options.http
    ? proc.waitForLine(/HTTP listening on 127\.0\.0\.1:(\d+)/, 60_000)
    : undefined;
  const line = await proc.waitForLine(
    /(?<!HTTP )listening on 127\.0\.0\.1:(\d+)/,
    options.startTimeoutMs ?? 60_000,
  );
  const httpLine = await httpListening;
  return {
    proc,
    port: Number(line.match[1]),
    httpPort: Number(httpLine?.match[1] ?? 0),
    dir,
    logfile,
    startupMs: line.atMs - proc.spawnedMs,
    async stop() {
      const status = await proc.stop(15_000);
      if (status.signal === "SIGKILL") {
        throw new Error("ztick did not stop on SIGTERM within 15 s");
      }
    },
  };
}
