import type { Config } from "./config/config.ts";
import type { Command } from "./domain/command.ts";
import { errorMessage } from "./errors.ts";
import { count, exportLogs, logger } from "./log.ts";
import { RunnerExecutor } from "./runners/mod.ts";
import type { JobStore } from "./scheduler/job_store.ts";
import type { Clock } from "./scheduler/ports.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import { FailureThrottle } from "./server/auth.ts";
import type { ConnectionContext } from "./server/connection.ts";
import { formatAddr } from "./io.ts";
import type { TcpServer } from "./server/tcp_server.ts";
import {
  type Access,
  defaultMaxConnections,
  listenHttp,
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
import { Activity } from "./telemetry/activity.ts";
import { renderPrometheus } from "./telemetry/prometheus.ts";
import { MetricsRegistry } from "./telemetry/registry.ts";
import { requestCounter } from "./telemetry/requests.ts";
import { statEntries } from "./telemetry/stat.ts";
import { telemetrySink } from "./telemetry/logtape_sink.ts";
import {
  DISABLED_TELEMETRY,
  EXPORT_TIMEOUT_MS,
  type RequestTracer,
  startTelemetry,
  type Telemetry,
} from "./telemetry/telemetry.ts";
import type { StatEntry } from "./domain/result.ts";
import { createApi } from "./server/http/api.ts";
import type { HttpServer } from "./server/http/http_server.ts";
import { statsJson } from "./server/http/stats.ts";
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
  readonly telemetry: Telemetry;
  readonly throttle: FailureThrottle;
  /** Who may connect: replaced on SIGHUP. */
  readonly access: { current: Access };
  readonly server: TcpServer;
  readonly http: HttpServer | undefined;
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
    const registry = new MetricsRegistry();
    // First, so that the warnings of the steps after it are exported too.
    const telemetry = await openTelemetry(config, registry);
    try {
      return await Daemon.#start(config, options, { registry, telemetry });
    } catch (error) {
      await closeTelemetry(telemetry);
      throw error;
    }
  }

  static async #start(
    config: Config,
    options: DaemonOptions,
    { registry, telemetry }: Pick<DaemonParts, "registry" | "telemetry">,
  ): Promise<Daemon> {
    const startedMs = performance.now();
    const activity = new Activity(registry);
    const throttle = new FailureThrottle();
    const access = { current: await readAccess(config, registry, throttle) };
    const maxConnections = config.controller.maxConnections ??
      defaultMaxConnections(await readOpenFileLimit());
    log.info(`max connections: ${maxConnections}`);
    const { store, journal, lock } = await openState(config, registry);
    const executor = new RunnerExecutor({
      shell: config.shell,
      version: VERSION,
    });
    const stat = statSource(registry, journal, {
      info: statInfo(config, access.current),
      uptimeNs: () => BigInt(Math.round((performance.now() - startedMs) * 1e6)),
      runsRecorded: () => scheduler.stats().runsRecorded,
      jobsExpired: () => scheduler.stats().jobsExpired,
    });
    const clock = options.clock ?? SYSTEM_CLOCK;
    const scheduler = buildScheduler(config, { store, journal, executor }, {
      registry,
      clock,
      stat,
      tracer: telemetry,
    });
    scheduler.settleInterrupted();
    log.info(
      `loaded ${count(store.jobCount, "job")}, ${
        count(store.ruleCount, "rule")
      }`,
    );
    let servers: { server: TcpServer; http: HttpServer | undefined };
    try {
      servers = listen(config, maxConnections, access, {
        scheduler,
        registry,
        trace: tracerOf(telemetry),
        stat,
        activity,
        nowMs: () => Number(clock.nowNs() / 1_000_000n),
      });
    } catch (error) {
      await journal.close();
      lock?.[Symbol.dispose]();
      throw error;
    }
    const { server, http } = servers;
    registerGauges(registry, { scheduler, journal, server, http, startedMs });
    scheduler.start();
    log.info(`listening on ${formatAddr(server.addr)}`);
    if (http) log.info(`HTTP listening on ${formatAddr(http.addr)}`);
    const parts = { config, registry, throttle, access, scheduler, journal };
    return new Daemon({ ...parts, telemetry, lock, server, http, executor });
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
    const trace = tracerOf(this.#parts.telemetry);
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
        server.reload(
          contextOf(scheduler, access, { metrics: registry, trace }),
          access.tls,
        );
      } catch (error) {
        throw tlsError(error);
      }
      this.#parts.access.current = access;
      log.info(`reloaded: ${what.join(", ")}`);
    } catch (error) {
      const reason = errorMessage(error);
      log.error(`reload failed: ${reason}`, { reason });
    }
  }

  /** The bound protocol address. */
  get addr(): Deno.NetAddr {
    return this.#parts.server.addr;
  }

  /** The bound HTTP API address, when `[http] listen` is set. */
  get httpAddr(): Deno.NetAddr | undefined {
    return this.#parts.http?.addr;
  }

  /**
   * Stops accepting and closes connections, lets running executions finish
   * for up to 5 s, flushes the logfile, then exports what telemetry holds,
   * waiting at most its 2 s timeout (spec: runners.md §1,
   * configuration.md §6).
   */
  stop(graceMs = 5000): Promise<void> {
    const { server, http, scheduler, executor, journal, lock } = this.#parts;
    this.#stopping ??= (async () => {
      await Promise.all([server.close(), http?.close()]);
      await scheduler.stop(graceMs);
      executor[Symbol.dispose]();
      await journal.close();
      lock?.[Symbol.dispose]();
      await closeTelemetry(this.#parts.telemetry);
    })();
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** STAT's entries, read now. */
export function statSource(
  registry: MetricsRegistry,
  journal: { readonly compaction: string },
  sources: {
    info: ReturnType<typeof statInfo>;
    uptimeNs: () => bigint;
    runsRecorded: () => number;
    jobsExpired: () => number;
    cluster?: () => readonly [string, bigint];
  },
): () => readonly StatEntry[] {
  return () =>
    statEntries({
      registry,
      ...sources,
      compaction: () => journal.compaction,
    });
}

/** The scheduler of a configuration, on a loaded store and its journal. */
export function buildScheduler(
  config: Config,
  state: {
    store: JobStore;
    journal: StoredJournal;
    executor: RunnerExecutor;
  },
  sources: {
    registry: MetricsRegistry;
    clock: Clock;
    stat: () => readonly StatEntry[];
    tracer: Telemetry;
  },
): Scheduler {
  return new Scheduler({
    ...state,
    clock: sources.clock,
    tracer: sources.tracer,
    timer: SYSTEM_TIMER,
    metrics: sources.registry,
    stat: sources.stat,
    concurrency: config.execution.concurrency,
    timeoutMs: config.execution.timeoutS * 1000,
    onInterrupted: config.execution.onInterrupted,
    retentionMs: config.execution.retentionMs,
  });
}

/** What the front doors serve from. */
interface FrontDoors {
  readonly scheduler: Scheduler;
  readonly registry: MetricsRegistry;
  /** Spans of requests; none when telemetry is off. */
  readonly trace: RequestTracer | undefined;
  readonly stat: () => readonly StatEntry[];
  readonly activity: Activity;
  readonly nowMs: () => number;
}

/** Binds the protocol port and, when configured, the HTTP API port. */
function listen(
  config: Config,
  maxConnections: number,
  access: { current: Access },
  doors: FrontDoors,
): { server: TcpServer; http: HttpServer | undefined } {
  const { scheduler, registry, trace } = doors;
  const context = contextOf(scheduler, access.current, {
    metrics: registry,
    trace,
  });
  const server = listenTcp(config, maxConnections, access.current.tls, context);
  try {
    const http = listenHttp(
      config,
      createApi({
        commands: scheduler.commands,
        auth: () => access.current.auth,
        role: () => "single",
        metricsText: () => renderPrometheus(registry),
        statsJson: () =>
          statsJson({
            stat: doors.stat,
            activity: doors.activity,
            upcoming: (start, bucket, n) =>
              scheduler.commands.upcoming(start, bucket, n),
            nowMs: doors.nowMs,
          }),
        metrics: registry,
        ...(trace !== undefined ? { trace } : {}),
        version: VERSION,
      }),
    );
    return { server, http };
  } catch (error) {
    void server.close();
    throw error;
  }
}

/** What protocol connections accepted with this access are given. */
export function contextOf(
  scheduler: Scheduler,
  access: Access,
  { metrics, trace }: {
    metrics: MetricsRegistry;
    trace: RequestTracer | undefined;
  },
): ConnectionContext {
  return {
    execute: (command: Command, namespace: string, span?: string) =>
      scheduler.commands.execute(command, namespace, span),
    count: requestCounter(metrics),
    ...(access.auth ? { auth: access.auth } : {}),
    ...(trace !== undefined ? { trace } : {}),
  };
}

/**
 * Starts OpenTelemetry export when `[telemetry] enabled = true`: the SDK
 * is loaded then and only then, and log records at warn and above are
 * exported from now on (spec: configuration.md §6).
 */
export async function openTelemetry(
  config: Config,
  registry: MetricsRegistry,
): Promise<Telemetry> {
  const { enabled, endpoint, serviceName, flushIntervalMs } = config.telemetry;
  if (!enabled || endpoint === undefined) return DISABLED_TELEMETRY;
  const debug = logger("telemetry");
  const telemetry = await startTelemetry({
    endpoint,
    serviceName,
    serviceVersion: VERSION,
    flushIntervalMs,
    registry,
    startedMs: Date.now(),
    debug: (message) => debug.debug(message),
  });
  exportLogs(telemetrySink(telemetry));
  return telemetry;
}

/** Stops exporting logs, then flushes what telemetry holds (at most 2 s). */
export async function closeTelemetry(telemetry: Telemetry): Promise<void> {
  if (!telemetry.enabled) return;
  exportLogs(undefined);
  await telemetry.shutdown(EXPORT_TIMEOUT_MS);
}

/** The front doors' tracer: none at all when telemetry is off. */
export function tracerOf(telemetry: Telemetry): RequestTracer | undefined {
  return telemetry.enabled ? telemetry : undefined;
}
