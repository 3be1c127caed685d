import { loadAuthFile } from "./config/auth_file.ts";
import type { Config } from "./config/config.ts";
import type { Mutation } from "./domain/mutation.ts";
import { logger } from "./log.ts";
import { LogfileJournal } from "./persistence/logfile_journal.ts";
import { MemoryJournal } from "./persistence/memory_journal.ts";
import { replayLogfileInto } from "./persistence/replay.ts";
import { RunnerExecutor } from "./runners/mod.ts";
import type { Clock, Journal } from "./scheduler/ports.ts";
import { SYSTEM_CLOCK } from "./scheduler/system_clock.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import { type Authenticator, formatAddr } from "./server/connection.ts";
import { TcpServer } from "./server/tcp_server.ts";
import { createAuthenticator } from "./server/auth.ts";
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

/**
 * The composition root: builds the journal, scheduler, runners and server
 * from a configuration, starts them in the order the spec's startup lines
 * describe (configuration.md §5) and stops them gracefully.
 */
export class Daemon implements AsyncDisposable {
  readonly #scheduler: Scheduler;
  readonly #journal: StoredJournal;
  readonly #server: TcpServer;
  readonly #executor: RunnerExecutor;
  #stopping: Promise<void> | undefined;

  private constructor(
    scheduler: Scheduler,
    journal: StoredJournal,
    server: TcpServer,
    executor: RunnerExecutor,
  ) {
    this.#scheduler = scheduler;
    this.#journal = journal;
    this.#server = server;
    this.#executor = executor;
  }

  /** Starts a daemon; throws a startup error with the spec's message. */
  static async start(
    config: Config,
    options: DaemonOptions = {},
  ): Promise<Daemon> {
    const startedMs = performance.now();
    let auth: Authenticator | undefined;
    if (config.controller.authFile !== undefined) {
      const file = await loadAuthFile(config.controller.authFile);
      for (const warning of file.warnings) log.warn(warning);
      auth = createAuthenticator(file);
    }
    const tls = await readTls(config);
    const maxConnections = config.controller.maxConnections ??
      defaultMaxConnections(await readOpenFileLimit());
    log.info(`max connections: ${maxConnections}`);
    const { database, execution } = config;
    const executor = new RunnerExecutor({
      shell: config.shell,
      version: VERSION,
    });
    let journal: StoredJournal;
    let scheduler: Scheduler;
    const schedulerOptions = {
      clock: options.clock ?? SYSTEM_CLOCK,
      executor,
      concurrency: execution.concurrency,
      timeoutMs: execution.timeoutS * 1000,
      onInterrupted: execution.onInterrupted,
    };
    if (database.persistence === "memory") {
      journal = new MemoryJournal();
      scheduler = new Scheduler({ ...schedulerOptions, journal });
    } else {
      // Records go straight into the scheduler as they are read, so a large
      // logfile is never held in memory twice; the journal opens (and may
      // compact) only once replay and its torn-tail repair are done.
      const opening = new OpeningJournal();
      const restoring = new Scheduler({
        ...schedulerOptions,
        journal: opening,
      });
      scheduler = restoring;
      const warnings = await replayLogfileInto(
        database.logfilePath,
        (mutation) => restoring.restore(mutation),
      );
      journal = await LogfileJournal.open(database.logfilePath, {
        fsync: database.fsyncOnPersist,
        compactionIntervalS: database.compressionIntervalS,
        snapshot: () => restoring.snapshot(),
      });
      opening.target = journal;
      for (const warning of warnings) log.warn(warning);
    }
    scheduler.settleInterrupted();
    const { jobs, rules } = scheduler.size;
    log.info(`loaded ${jobs} jobs, ${rules} rules`);
    const context = {
      handle: scheduler.handle.bind(scheduler),
      stat: () => statLines(config, daemonState()),
      ...(auth ? { auth } : {}),
    };
    let server: TcpServer;
    const { listen } = config.controller;
    try {
      server = TcpServer.listen({
        hostname: listen.hostname,
        port: listen.port,
        maxConnections,
        ...(tls ? { tls } : {}),
      }, context);
    } catch (error) {
      await journal.close();
      throw listenError(listen.text, error, tls !== undefined);
    }
    const daemon = new Daemon(scheduler, journal, server, executor);
    const daemonState = () => ({
      uptimeNs: BigInt(Math.round((performance.now() - startedMs) * 1e6)),
      connections: server.connections,
      scheduler,
      journal,
      auth: auth !== undefined,
      tls: tls !== undefined,
    });
    scheduler.start();
    log.info(`listening on ${formatAddr(server.addr)}`);
    return daemon;
  }

  /** The bound protocol address. */
  get addr(): Deno.NetAddr {
    return this.#server.addr;
  }

  /** The scheduler, for tests that steer time. */
  get scheduler(): Scheduler {
    return this.#scheduler;
  }

  /**
   * Stops accepting and closes connections, lets running executions finish
   * for up to 5 s, then flushes the logfile (spec: runners.md §1).
   */
  stop(graceMs = 5000): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#server.close();
      await this.#scheduler.stop(graceMs);
      this.#executor[Symbol.dispose]();
      await this.#journal.close();
    })();
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** A journal the daemon can report on and close. */
type StoredJournal = Journal & {
  close(): Promise<void>;
  readonly compression: string;
};

/** Stands for the logfile journal while replay fills the scheduler. */
class OpeningJournal implements Journal {
  target: Journal | undefined;

  get writable(): boolean {
    return this.target?.writable ?? false;
  }

  append(mutation: Mutation, undo?: () => void): Promise<void> {
    if (this.target) return this.target.append(mutation, undo);
    undo?.();
    return Promise.reject(new Error("the logfile is not open yet"));
  }
}

interface DaemonState {
  readonly uptimeNs: bigint;
  readonly connections: number;
  readonly scheduler: Scheduler;
  readonly journal: StoredJournal;
  readonly auth: boolean;
  readonly tls: boolean;
}

/** STAT's lines, keys in the spec's order (spec: protocol.md §6). */
function statLines(
  config: Config,
  state: DaemonState,
): [string, string | number | bigint][] {
  const stats = state.scheduler.stats();
  return [
    ["uptime_ns", state.uptimeNs],
    ["connections", state.connections],
    ["jobs_total", stats.jobsTotal],
    ["jobs_planned", stats.jobs.planned],
    ["jobs_triggered", stats.jobs.triggered],
    ["jobs_executed", stats.jobs.executed],
    ["jobs_failed", stats.jobs.failed],
    ["rules_total", stats.rulesTotal],
    ["executions_pending", stats.executionsPending],
    ["executions_inflight", stats.executionsInflight],
    ["persistence", config.database.persistence],
    ["compression", state.journal.compression],
    ["auth_enabled", state.auth ? 1 : 0],
    ["tls_enabled", state.tls ? 1 : 0],
    ["framerate", config.database.framerate],
    ["version", VERSION],
    ["execution_concurrency", config.execution.concurrency],
    ["execution_timeout", config.execution.timeoutS],
    ["persistence_writable", state.journal.writable ? 1 : 0],
  ];
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
