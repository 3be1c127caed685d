/**
 * The daemon's startup steps, each with the spec's error message: reading
 * the auth file and TLS files, sizing the connection cap, replaying the
 * logfile into the store, binding the protocol port, registering gauges
 * (spec: configuration.md §3, §5).
 *
 * @module
 */
import { loadAuthFile } from "./config/auth_file.ts";
import type { Config } from "./config/config.ts";
import { errorMessage } from "./errors.ts";
import { logger } from "./log.ts";
import { lockLogfile } from "./persistence/files.ts";
import { LogfileJournal } from "./persistence/logfile_journal.ts";
import { MemoryJournal } from "./persistence/memory_journal.ts";
import { replayLogfileInto } from "./persistence/replay.ts";
import { softOpenFileLimit } from "./runners/mod.ts";
import { JobStore } from "./scheduler/job_store.ts";
import type { Journal, Metrics } from "./scheduler/ports.ts";
import type { Scheduler } from "./scheduler/scheduler.ts";
import {
  type Authenticator,
  createAuthenticator,
  type FailureThrottle,
} from "./server/auth.ts";
import type { ConnectionContext } from "./server/connection.ts";
import { TcpServer } from "./server/tcp_server.ts";
import type { HttpHandler } from "./server/http/_http_types.ts";
import { HttpServer } from "./server/http/http_server.ts";
import type { TlsPem } from "./server/tls.ts";
import type { MetricsRegistry } from "./telemetry/registry.ts";
import type { StatInfo } from "./telemetry/stat.ts";
import { VERSION } from "./version.ts";

const log = logger("daemon");
/** Default cap on simultaneous protocol connections (as Redis has). */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Descriptors kept free for the logfile, runners' pipes, sockets of runners. */
export const RESERVED_FILE_DESCRIPTORS = 64;

/** A startup failure that is not the configuration's: listen, TLS. */
export class StartupError extends Error {
  override name = "StartupError";
}

/** A journal the daemon can report on and close. */
export type StoredJournal = Journal & {
  close(): Promise<void>;
  readonly compaction: string;
};

/** Who may connect and how: re-read on SIGHUP. */
export interface Access {
  readonly auth: Authenticator | undefined;
  readonly tls: TlsPem | undefined;
}

/**
 * Reads the auth file and the TLS certificate and key the configuration
 * names; failed attempts are counted in `throttle`, which outlives reloads.
 */
export async function readAccess(
  config: Config,
  metrics: Metrics,
  throttle: FailureThrottle,
): Promise<Access> {
  const { authFile } = config.controller;
  let auth: Authenticator | undefined;
  if (authFile !== undefined) {
    const file = await loadAuthFile(authFile);
    for (const warning of file.warnings) log.warn(warning);
    auth = createAuthenticator(file.tokens, {
      failures: metrics.counter("auth_failures_total"),
      throttle,
    });
  }
  return { auth, tls: await readTls(config) };
}

/**
 * Replays the logfile into a fresh store, then opens the journal on it:
 * records go straight into the store as they are read, so a large logfile
 * is never held in memory twice, and the journal opens (and may compact)
 * only once replay and its torn-tail repair are done (persistence.md §6).
 */
export async function openState(
  config: Config,
  metrics: Metrics,
): Promise<{ store: JobStore; journal: StoredJournal; lock?: Disposable }> {
  const store = new JobStore({ history: config.execution.history });
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

/** What STAT shows that does not change while the daemon runs. */
export function statInfo(config: Config, access: Access): StatInfo {
  return {
    persistence: config.database.persistence,
    auth: access.auth !== undefined,
    tls: access.tls !== undefined,
    framerate: config.database.framerate,
    version: VERSION,
    concurrency: config.execution.concurrency,
    timeoutS: config.execution.timeoutS,
    history: config.execution.history,
  };
}

/** The live figures the registry reads when STAT or a scrape asks. */
export function registerGauges(
  registry: MetricsRegistry,
  { scheduler, journal, server, http, startedMs }: {
    scheduler: Pick<Scheduler, "stats">;
    journal: { readonly writable: boolean };
    server: { readonly connections: number };
    http: { readonly connections: number } | undefined;
    startedMs: number;
  },
): void {
  registry.gauge("build_info", () => [[{ version: VERSION }, 1]]);
  registry.gauge("jobs", () =>
    Object.entries(scheduler.stats().jobs).map((
      [status, count],
    ) => [{ status }, count]));
  registry.gauge("jobs_recurring", () => scheduler.stats().jobsRecurring);
  registry.gauge("rules", () => scheduler.stats().rulesTotal);
  registry.gauge("connections", () => [
    [{ protocol: "tcp" }, server.connections],
    [{ protocol: "http" }, http?.connections ?? 0],
  ]);
  registry.gauge(
    "uptime_seconds",
    () => (performance.now() - startedMs) / 1000,
  );
  registry.gauge(
    "process_resident_memory_bytes",
    () => Deno.memoryUsage().rss,
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

/** Binds the HTTP API port, when `[http] listen` is set. */
export function listenHttp(
  config: Config,
  handler: HttpHandler,
): HttpServer | undefined {
  const { listen } = config.http;
  if (listen === undefined) return undefined;
  try {
    return HttpServer.listen({
      hostname: listen.hostname,
      port: listen.port,
      log: logger("http"),
    }, handler);
  } catch (error) {
    throw listenError(listen.text, error, false);
  }
}

/** Binds the protocol port. */
export function listenTcp(
  config: Config,
  maxConnections: number,
  tls: TlsPem | undefined,
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
 * import { defaultMaxConnections } from "./startup.ts";
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
 * `getrlimit(RLIMIT_NOFILE)` through the C library the process runners
 * use (Deno lets only `--allow-all` read /proc/self/limits). `undefined`
 * when unlimited or when the C library cannot be used.
 */
export function readOpenFileLimit(): Promise<number | undefined> {
  return Promise.resolve(softOpenFileLimit());
}

async function readTls(config: Config): Promise<TlsPem | undefined> {
  const { tlsCert, tlsKey } = config.controller;
  if (tlsCert === undefined || tlsKey === undefined) return undefined;
  try {
    return {
      cert: await Deno.readTextFile(tlsCert),
      key: await Deno.readTextFile(tlsKey),
    };
  } catch (error) {
    throw tlsError(error);
  }
}

/** A TLS context that cannot be built gives the spec's TLS message. */
export function tlsError(error: unknown): StartupError {
  return new StartupError(
    `tls: cannot load certificate or key: ${errorMessage(error)}`,
  );
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
  if (tls && !networkError) return tlsError(error);
  return new StartupError(`listen ${address}: ${errorMessage(error)}`);
}
