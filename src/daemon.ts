import type { Config } from "./config/config.ts";
import type { Command } from "./domain/command.ts";
import { errorMessage } from "./errors.ts";
import { logger } from "./log.ts";
import { RunnerExecutor } from "./runners/mod.ts";
import type { JobStore } from "./scheduler/job_store.ts";
import type { Clock } from "./scheduler/ports.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import { FailureThrottle } from "./server/auth.ts";
import { type ConnectionContext, formatAddr } from "./server/connection.ts";
import type { TcpServer } from "./server/tcp_server.ts";
import {
  type Access,
  defaultMaxConnections,
  listenTcp,
  openState,
  readAccess,
  readOpenFileLimit,
  registerGauges,
  statInfo,
  type StoredJournal,
  tlsError,
} from "./startup.ts";
import { SYSTEM_CLOCK, SYSTEM_TIMER } from "./system_time.ts";
import { MetricsRegistry } from "./telemetry/registry.ts";
import { statEntries } from "./telemetry/stat.ts";
import { VERSION } from "./version.ts";

const log = logger("daemon");

/** Seams for tests; the real daemon takes the defaults. */
export interface DaemonOptions {
  readonly clock?: Clock;
}

/** What a running daemon is made of, in the order it stops them. */
interface DaemonParts {
  readonly config: Config;
  readonly registry: MetricsRegistry;
  readonly throttle: FailureThrottle;
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
 * describe (configuration.md §5), reloads access on SIGHUP and stops them
 * gracefully.
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
    const throttle = new FailureThrottle();
    const access = await readAccess(config, registry, throttle);
    const maxConnections = config.controller.maxConnections ??
      defaultMaxConnections(await readOpenFileLimit());
    log.info(`max connections: ${maxConnections}`);
    const { store, journal, lock } = await openState(config, registry);
    const executor = new RunnerExecutor({
      shell: config.shell,
      version: VERSION,
    });
    const scheduler = buildScheduler(config, { store, journal, executor }, {
      registry,
      clock: options.clock ?? SYSTEM_CLOCK,
      info: statInfo(config, access),
      uptimeNs: () => BigInt(Math.round((performance.now() - startedMs) * 1e6)),
    });
    scheduler.settleInterrupted();
    log.info(`loaded ${store.jobCount} jobs, ${store.ruleCount} rules`);
    let server: TcpServer;
    try {
      server = listenTcp(
        config,
        maxConnections,
        access.tls,
        contextOf(scheduler, access),
      );
    } catch (error) {
      await journal.close();
      lock?.[Symbol.dispose]();
      throw error;
    }
    registerGauges(registry, scheduler, journal, server);
    scheduler.start();
    log.info(`listening on ${formatAddr(server.addr)}`);
    const parts = { config, registry, throttle, scheduler, journal, lock };
    return new Daemon({ ...parts, server, executor });
  }

  /**
   * Re-reads the auth file and the TLS certificate and key named in the
   * configuration (not the configuration itself): connections opened from
   * now on use them, open ones keep theirs. On any error the old ones stay
   * in force. Never throws; the outcome is logged (spec: configuration.md
   * §1, SIGHUP).
   */
  async reload(): Promise<void> {
    const { config, registry, throttle, server, scheduler } = this.#parts;
    const { controller } = config;
    const what = [
      ...(controller.authFile !== undefined ? ["auth file"] : []),
      ...(controller.tlsCert !== undefined ? ["TLS certificate"] : []),
    ];
    if (what.length === 0) {
      log.info("reload: nothing to reload");
      return;
    }
    try {
      const access = await readAccess(config, registry, throttle);
      try {
        server.reload(contextOf(scheduler, access), access.tls);
      } catch (error) {
        throw tlsError(error);
      }
      log.info(`reloaded: ${what.join(", ")}`);
    } catch (error) {
      log.error(`reload failed: ${errorMessage(error)}`);
    }
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

/** What the scheduler reads STAT from. */
interface StatSources {
  readonly registry: MetricsRegistry;
  readonly clock: Clock;
  readonly info: ReturnType<typeof statInfo>;
  readonly uptimeNs: () => bigint;
}

function buildScheduler(
  config: Config,
  state: {
    store: JobStore;
    journal: StoredJournal;
    executor: RunnerExecutor;
  },
  sources: StatSources,
): Scheduler {
  const { registry, info, uptimeNs } = sources;
  const { journal } = state;
  const scheduler: Scheduler = new Scheduler({
    ...state,
    clock: sources.clock,
    timer: SYSTEM_TIMER,
    metrics: registry,
    stat: () =>
      statEntries({
        registry,
        info,
        uptimeNs,
        compaction: () => journal.compaction,
        runsRecorded: () => scheduler.stats().runsRecorded,
      }),
    concurrency: config.execution.concurrency,
    timeoutMs: config.execution.timeoutS * 1000,
    onInterrupted: config.execution.onInterrupted,
  });
  return scheduler;
}

/** What protocol connections accepted with this access are given. */
function contextOf(scheduler: Scheduler, access: Access): ConnectionContext {
  return {
    execute: (command: Command, namespace: string) =>
      scheduler.handle(command, namespace),
    ...(access.auth ? { auth: access.auth } : {}),
  };
}
