/**
 * ztick: argv → subcommand → exit code. The only place that exits
 * (spec: configuration.md §1).
 *
 * @module
 */
import { CLIENT_ENV, type ClientIo, runClient } from "./src/client/mod.ts";
import { parseCommandLine, USAGE } from "./src/config/cli.ts";
import { loadConfig } from "./src/config/config.ts";
import { Daemon } from "./src/daemon.ts";
import { guardDebugSignals } from "./src/debug_signals.ts";
import { runDump } from "./src/dump.ts";
import { logger, setUpLogging, stderrSink } from "./src/log.ts";
import { VERSION } from "./src/version.ts";
import { errorMessage } from "./src/errors.ts";
import { type SyncWriter, writeAllSync } from "./src/io.ts";

const ENCODER = new TextEncoder();
const log = logger("main");

/** Runs one invocation of the command line and returns its exit code. */
export async function main(argv: string[]): Promise<number> {
  // `deno task start -- -c config.toml` passes the `--` along.
  const invocation = parseCommandLine(argv[0] === "--" ? argv.slice(1) : argv);
  switch (invocation.kind) {
    case "version":
      print(Deno.stdout, `ztick ${VERSION}\n`);
      return 0;
    case "help": {
      const text = invocation.text ?? USAGE;
      print(Deno.stdout, text.endsWith("\n") ? text : `${text}\n`);
      return 0;
    }
    case "usage":
      print(
        Deno.stderr,
        `error: ${invocation.problem}\n${invocation.usage ?? usageLine()}\n`,
      );
      return 2;
    case "client":
      // Not the daemon: no signal guard, no logging set-up.
      return await runClient(invocation, CLIENT_IO);
    case "dump": {
      const stop = new AbortController();
      const signals = onStopSignal(() => stop.abort());
      try {
        return await runDump({ ...invocation, signal: stop.signal });
      } finally {
        signals.remove();
      }
    }
    case "import":
    case "export": {
      // Loaded only here, with the PostgreSQL client (cluster.md §6).
      const transfer = await import("./src/cluster/transfer.ts");
      return invocation.kind === "import"
        ? await transfer.runImport(invocation.logfile, invocation.postgres)
        : await transfer.runExport(invocation.postgres);
    }
    case "server":
      return await serve(invocation.configPath);
  }
}

async function serve(configPath: string | undefined): Promise<number> {
  // First: before it, SIGUSR1 could open an inspector once Deno arms it.
  guardDebugSignals();
  const config = await loadConfig(configPath);
  setUpLogging(config.log.level, stderrSink(config.log.format));
  log.info(`config: ${configPath ?? "default"}`);
  log.info(`log level: ${config.log.level}`);
  // Listen for signals before the readiness line, so none is missed.
  const stopped = Promise.withResolvers<void>();
  const signals = onStopSignal(() => stopped.resolve());
  let daemon: Pick<Daemon, "reload" | "stop"> | undefined;
  const reload = () => void daemon?.reload();
  Deno.addSignalListener("SIGHUP", reload);
  try {
    daemon = config.database.persistence === "postgres"
      // Loaded only in postgres mode (cluster.md), with its client.
      ? await (await import("./src/cluster/node.ts")).ClusterNode.start(config)
      : await Daemon.start(config);
  } catch (error) {
    signals.remove();
    Deno.removeSignalListener("SIGHUP", reload);
    throw error;
  }
  await stopped.promise;
  signals.remove();
  log.info("shutting down");
  await daemon.stop();
  Deno.removeSignalListener("SIGHUP", reload);
  return 0;
}

/** Calls `stop` once on SIGINT or SIGTERM. */
function onStopSignal(stop: () => void): { remove(): void } {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  return {
    remove: () =>
      signals.forEach((signal) => Deno.removeSignalListener(signal, stop)),
  };
}

/** The client's outside world: stdout, stderr, its variables, files. */
const CLIENT_IO: ClientIo = {
  stdout: (text) => print(Deno.stdout, text),
  stderr: (text) => print(Deno.stderr, text),
  env(name: (typeof CLIENT_ENV)[number]) {
    // Query first: without --allow-env, a read would prompt on a terminal.
    const { state } = Deno.permissions.querySync({
      name: "env",
      variable: name,
    });
    return state === "granted" ? Deno.env.get(name) : "denied";
  },
  readTextFile: (path) => Deno.readTextFile(path),
};

function usageLine(): string {
  return USAGE.split("\n").find((line) => line.trim() !== "") ??
    "usage: ztick --help";
}

function print(stream: SyncWriter, text: string): void {
  writeAllSync(stream, ENCODER.encode(text));
}

if (import.meta.main) {
  // The daemon never dies of a stray promise: log it and carry on.
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    const reason = String(event.reason);
    log.error(`unexpected error: ${reason}`, { reason });
  });
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    // Startup errors carry the spec's message (configuration.md §3).
    print(
      Deno.stderr,
      `error: ${errorMessage(error)}\n`,
    );
    code = 1;
  }
  Deno.exit(code);
}
