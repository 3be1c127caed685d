import { loadAuthFile } from "./config/auth_file.ts";
import type { Config } from "./config/config.ts";
import { logger } from "./log.ts";
import { lockLogfile } from "./persistence/files.ts";
import { LogfileJournal } from "./persistence/logfile_journal.ts";
import { MemoryJournal } from "./persistence/memory_journal.ts";
import { replayLogfileInto } from "./persistence/replay.ts";
import { RunnerExecutor } from "./runners/mod.ts";
import { JobStore } from "./scheduler/job_store.ts";
import type { Clock, Journal, Metrics } from "./scheduler/ports.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import { type ConnectionContext, formatAddr } from "./server/connection.ts";
import { TcpServer } from "./server/tcp_server.ts";
import { type Authenticator, createAuthenticator } from "./server/auth.ts";
import { SYSTEM_CLOCK, SYSTEM_TIMER } from "./system_time.ts";
import { MetricsRegistry } from "./telemetry/registry.ts";
import { statEntries } from "./telemetry/stat.ts";
import { VERSION } from "./version.ts";
import { errorMessage } from "./errors.ts";

const log = logger("daemon");
/** Default cap on simultaneous protocol connections (as Redis has). */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Descriptors kept free for the logfile, runners' pipes, sockets of runners. */
export const RESERVED_FILE_DESCRIPTORS = 64;

/** A startup failure that is not the configuration's: listen, TLS. */
export class StartupError extends Error {
  override name = "StartupError";
}

/** Seams for tests; the real daemon takes the defaults. */
export interface DaemonOptions {
  readonly clock?: Clock;
}

/** A journal the daemon can report on and close. */
type StoredJournal = Journal & {
  close(): Promise<void>;
  readonly compaction: string;
};

/** What a running daemon is made of, in the order it stops them. */
interface DaemonParts {
  readonly server: TcpServer;
  readonly scheduler: Scheduler;
  readonly executor: RunnerExecutor;
  readonly journal: StoredJournal;
  /** The logfile's lock, held until the journal is closed. */
  readonly lock: Disposable | undefined;
}

/**
 * The composition root: builds the journal, scheduler, runners and server
 * from a configuration, starts them in the order the spec's startup lines
 * describe (configuration.md §5) and stops them gracefully.
 */
export class Daemon implements AsyncDisposable {
  readonly #parts: DaemonParts;
  #stopping: Promise<void> | undefined;

  private constructor(parts: DaemonParts) {
    this.#parts = parts;
  }

  /** Starts a daemon; throws a startup error with the spec's message. */
  static async start(
    config: Config,
    options: DaemonOptions = {},
  ): Promise<Daemon> {
    const startedMs = performance.now();
    const registry = new MetricsRegistry();
    const auth = await readAuth(config, registry);
    const tls = await readTls(config);
    const maxConnections = config.controller.maxConnections ??
      defaultMaxConnections(await readOpenFileLimit());
    log.info(`max connections: ${maxConnections}`);
    const { store, journal, lock } = await openState(config, registry);
    const executor = new RunnerExecutor({
      shell: config.shell,
      version: VERSION,
    });
    const scheduler = new Scheduler({
      store,
      clock: options.clock ?? SYSTEM_CLOCK,
      timer: SYSTEM_TIMER,
      journal,
      executor,
      metrics: registry,
      stat: () =>
        statEntries({
          registry,
          info: statInfo(config, auth !== undefined, tls !== undefined),
          uptimeNs: () =>
            BigInt(Math.round((performance.now() - startedMs) * 1e6)),
          compaction: () => journal.compaction,
        }),
      concurrency: config.execution.concurrency,
      timeoutMs: config.execution.timeoutS * 1000,
      onInterrupted: config.execution.onInterrupted,
    });
    scheduler.settleInterrupted();
    log.info(`loaded ${store.jobCount} jobs, ${store.ruleCount} rules`);
    let server: TcpServer;
    try {
      server = listen(config, maxConnections, tls, {
        execute: (command, namespace) => scheduler.handle(command, namespace),
        ...(auth ? { auth } : {}),
      });
    } catch (error) {
      await journal.close();
      lock?.[Symbol.dispose]();
      throw error;
    }
    registerGauges(registry, scheduler, journal, server);
    scheduler.start();
    log.info(`listening on ${formatAddr(server.addr)}`);
    return new Daemon({ scheduler, journal, server, executor, lock });
  }

  /** The bound protocol address. */
  get addr(): Deno.NetAddr {
    return this.#parts.server.addr;
  }

  /**
   * Stops accepting and closes connections, lets running executions finish
   * for up to 5 s, then flushes the logfile (spec: runners.md §1).
   */
  stop(graceMs = 5000): Promise<void> {
    const { server, scheduler, executor, journal, lock } = this.#parts;
    this.#stopping ??= (async () => {
      await server.close();
      await scheduler.stop(graceMs);
      executor[Symbol.dispose]();
      await journal.close();
      lock?.[Symbol.dispose]();
    })();
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Replays the logfile into a fresh store, then opens the journal on it:
 * records go straight into the store as they are read, so a large logfile
 * is never held in memory twice, and the journal opens (and may compact)
 * only once replay and its torn-tail repair are done (persistence.md §6).
 */
async function openState(
  config: Config,
  metrics: Metrics,
): Promise<{ store: JobStore; journal: StoredJournal; lock?: Disposable }> {
  const store = new JobStore();
  const { database } = config;
  if (database.persistence === "memory") {
    return { store, journal: new MemoryJournal() };
  }
  // Before anything touches the files: a second daemon must not repair or
  // replay what the first one is writing.
  const lock = await lockLogfile(database.logfilePath);
  try {
    const warnings = await replayLogfileInto(
      database.logfilePath,
      (mutation) => store.apply(mutation),
    );
    const journal = await LogfileJournal.open(database.logfilePath, {
      fsync: database.fsyncOnPersist,
      compactionIntervalS: database.compressionIntervalS,
      snapshot: () => store.snapshot(),
      metrics,
    });
    for (const warning of warnings) log.warn(warning);
    return { store, journal, lock };
  } catch (error) {
    lock[Symbol.dispose]();
    throw error;
  }
}

async function readAuth(
  config: Config,
  metrics: Metrics,
): Promise<Authenticator | undefined> {
  if (config.controller.authFile === undefined) return undefined;
  const file = await loadAuthFile(config.controller.authFile);
  for (const warning of file.warnings) log.warn(warning);
  return createAuthenticator(file.tokens, {
    failures: metrics.counter("auth_failures_total"),
  });
}

function statInfo(config: Config, auth: boolean, tls: boolean) {
  return {
    persistence: config.database.persistence,
    auth,
    tls,
    framerate: config.database.framerate,
    version: VERSION,
    concurrency: config.execution.concurrency,
    timeoutS: config.execution.timeoutS,
  };
}

/** The live figures the registry reads when STAT or a scrape asks. */
function registerGauges(
  registry: MetricsRegistry,
  scheduler: Scheduler,
  journal: StoredJournal,
  server: TcpServer,
): void {
  registry.gauge("build_info", () => [[{ version: VERSION }, 1]]);
  registry.gauge("jobs", () =>
    Object.entries(scheduler.stats().jobs).map((
      [status, count],
    ) => [{ status }, count]));
  registry.gauge("rules", () => scheduler.stats().rulesTotal);
  registry.gauge(
    "connections",
    () => [[{ protocol: "tcp" }, server.connections]],
  );
  registry.gauge(
    "executions_pending",
    () => scheduler.stats().executionsPending,
  );
  registry.gauge(
    "executions_inflight",
    () => scheduler.stats().executionsInflight,
  );
  registry.gauge("persistence_writable", () => journal.writable ? 1 : 0);
}

function listen(
  config: Config,
  maxConnections: number,
  tls: { cert: string; key: string } | undefined,
  context: ConnectionContext,
): TcpServer {
  const { listen } = config.controller;
  try {
    return TcpServer.listen({
      hostname: listen.hostname,
      port: listen.port,
      maxConnections,
      ...(tls ? { tls } : {}),
    }, context);
  } catch (error) {
    throw listenError(listen.text, error, tls !== undefined);
  }
}

/**
 * The default connection cap: 10,000, lowered so that the connections and
 * the reserved descriptors fit the open-file limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultMaxConnections } from "./daemon.ts";
 *
 * assert.equal(defaultMaxConnections(1024), 960);
 * assert.equal(defaultMaxConnections(1_048_576), 10_000);
 * assert.equal(defaultMaxConnections(undefined), 10_000);
 * ```
 */
export function defaultMaxConnections(
  openFileLimit: number | undefined,
): number {
  if (openFileLimit === undefined) return DEFAULT_MAX_CONNECTIONS;
  return Math.max(
    1,
    Math.min(
      DEFAULT_MAX_CONNECTIONS,
      openFileLimit - RESERVED_FILE_DESCRIPTORS,
    ),
  );
}

/**
 * The soft "Max open files" limit of this process, if it can be found:
 * from `ulimit -n` in a shell, which inherits the limit (Deno lets only
 * `--allow-all` read /proc/self/limits, which the daemon never has).
 */
async function readOpenFileLimit(): Promise<number | undefined> {
  let text: string;
  try {
    const { success, stdout } = await new Deno.Command("/bin/sh", {
      args: ["-c", "ulimit -n"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!success) return undefined;
    text = new TextDecoder().decode(stdout).trim();
  } catch (error) {
    if (
      error instanceof Deno.errors.NotFound ||
      error instanceof Deno.errors.PermissionDenied ||
      error instanceof Deno.errors.NotCapable
    ) return undefined;
    throw error;
  }
  if (text === "unlimited") return undefined;
  const limit = Number(text);
  return Number.isSafeInteger(limit) && limit > 0 ? limit : undefined;
}

async function readTls(
  config: Config,
): Promise<{ cert: string; key: string } | undefined> {
  const { tlsCert, tlsKey } = config.controller;
  if (tlsCert === undefined || tlsKey === undefined) return undefined;
  try {
    return {
      cert: await Deno.readTextFile(tlsCert),
      key: await Deno.readTextFile(tlsKey),
    };
  } catch (error) {
    throw new StartupError(
      `tls: cannot load certificate or key: ${errorMessage(error)}`,
    );
  }
}

function listenError(
  address: string,
  error: unknown,
  tls: boolean,
): StartupError {
  const networkError = error instanceof Deno.errors.AddrInUse ||
    error instanceof Deno.errors.AddrNotAvailable ||
    error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotFound;
  if (tls && !networkError) {
    return new StartupError(
      `tls: cannot load certificate or key: ${errorMessage(error)}`,
    );
  }
  return new StartupError(`listen ${address}: ${errorMessage(error)}`);
}
