/**
 * A daemon in postgres mode (spec: cluster.md): the HTTP API on every
 * node, the lease loop, and the leadership built at takeover and torn down
 * at step-down. Followers do not listen on the protocol port.
 *
 * @module
 */
import type { Config } from "../config/config.ts";
import {
  closeTelemetry,
  contextOf,
  openTelemetry,
  statSource,
  tracerOf,
} from "../daemon.ts";
import { formatAddr } from "../io.ts";
import { logger } from "../log.ts";
import { RunnerExecutor } from "../runners/mod.ts";
import { FailureThrottle } from "../server/auth.ts";
import type { HttpServer } from "../server/http/http_server.ts";
import {
  defaultMaxConnections,
  readAccess,
  readOpenFileLimit,
  registerGauges,
  statInfo,
  tlsError,
} from "../startup.ts";
import { SYSTEM_CLOCK } from "../system_time.ts";
import { MetricsRegistry } from "../telemetry/registry.ts";
import type { Telemetry } from "../telemetry/telemetry.ts";
import { VERSION } from "../version.ts";
import { clusterHttp } from "./cluster_http.ts";
import { LeaseState } from "./lease.ts";
import { releaseLease, renewLease, takeLease } from "./lease_sql.ts";
import {
  abandon,
  lead,
  type Leadership,
  type LeaderSite,
  resign,
} from "./leadership.ts";
import { connectPg, type Pg, pgReason } from "./pg.ts";
import { ensureSchema } from "./schema.ts";

const log = logger("cluster");

/** A node of the cluster. */
export class ClusterNode implements AsyncDisposable {
  readonly #site: LeaderSite;
  readonly #leaseSql: Pg;
  readonly #http: HttpServer | undefined;
  #leadership: Leadership | undefined;
  /** Settles when the last step-down's teardown is done. */
  #teardown: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #stopping: Promise<void> | undefined;
  #lastError = "";

  private constructor(
    site: LeaderSite,
    leaseSql: Pg,
    http: HttpServer | undefined,
  ) {
    this.#site = site;
    this.#leaseSql = leaseSql;
    this.#http = http;
  }

  /**
   * Connects, creates the schema if needed, serves HTTP, then tries to take
   * the lease at once and every `lease / 3`.
   *
   * @throws {StartupError} `postgres: cannot connect to …` and the others.
   */
  static async start(config: Config): Promise<ClusterNode> {
    const url = config.database.postgresUrl!;
    const lease = new LeaseState(
      config.cluster.leaseMs,
      () => performance.now(),
    );
    const timeouts = { statementTimeoutMs: lease.statementTimeoutMs };
    const registry = new MetricsRegistry();
    const telemetry = await openTelemetry(config, registry);
    let sql: Pg | undefined;
    let leaseSql: Pg | undefined;
    try {
      sql = await connectPg(url, { ...timeouts, max: 2 });
      await ensureSchema(sql);
      leaseSql = await connectPg(url, { ...timeouts, max: 1 });
      const site = await siteOf(
        config,
        { url, sql, lease, registry, telemetry },
        () => node,
      );
      const http = clusterHttp(config, site, () => node.#leadership);
      const node: ClusterNode = new ClusterNode(site, leaseSql, http);
      registerGauges(site.registry, liveGauges(() => node.#leadership, http));
      log.info(`node ${site.nodeId}, lease ${config.cluster.leaseMs} ms`);
      if (http) log.info(`HTTP listening on ${formatAddr(http.addr)}`);
      await node.#tick();
      return node;
    } catch (error) {
      await Promise.all([
        sql?.end({ timeout: 0 }),
        leaseSql?.end({ timeout: 0 }),
      ]);
      await closeTelemetry(telemetry);
      throw error;
    }
  }

  /** The running leadership, if this node leads. */
  get leadership(): Leadership | undefined {
    return this.#leadership;
  }

  /** `leader` or `follower`. */
  get role(): "leader" | "follower" {
    return this.#site.lease.role;
  }

  /** The protocol address while leading. */
  get addr(): Deno.NetAddr | undefined {
    return this.#leadership?.server.addr;
  }

  get httpAddr(): Deno.NetAddr | undefined {
    return this.#http?.addr;
  }

  /**
   * SIGHUP: re-reads the auth file and the TLS files, for connections
   * opened from now on and for the next takeovers (configuration.md §1).
   */
  async reload(): Promise<void> {
    const { config, registry } = this.#site;
    const { controller } = config;
    const what = [
      ...(controller.authFile !== undefined ? ["auth file"] : []),
      ...(controller.tlsCert !== undefined ? ["TLS certificate"] : []),
    ];
    if (what.length === 0) return log.info("reload: nothing to reload");
    try {
      const access = await readAccess(config, registry, this.#site.throttle);
      const leadership = this.#leadership;
      try {
        leadership?.server.reload(
          contextOf(leadership.scheduler, access, {
            metrics: registry,
            trace: tracerOf(this.#site.telemetry),
          }),
          access.tls,
        );
      } catch (error) {
        throw tlsError(error);
      }
      this.#site.access.current = access;
      log.info(`reloaded: ${what.join(", ")}`);
    } catch (error) {
      const reason = pgReason(this.#site.url, error);
      log.error(`reload failed: ${reason}`, { reason });
    }
  }

  /** Stops: a leader resigns gracefully and releases the lease. */
  stop(graceMs = 5000): Promise<void> {
    this.#stopping ??= this.#stop(graceMs);
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #stop(graceMs: number): Promise<void> {
    clearTimeout(this.#timer);
    clearTimeout(this.#watchdog);
    const leadership = this.#leadership;
    this.#leadership = undefined;
    if (leadership !== undefined) await resign(leadership, graceMs);
    const { nodeId, lease } = this.#site;
    if (lease.role === "leader") {
      await releaseLease(this.#leaseSql, { nodeId, term: lease.term })
        .then(() => log.info(`lease released (term ${lease.term})`))
        .catch((error) =>
          log.warn(`lease release failed: ${pgReason(this.#site.url, error)}`)
        );
    }
    this.#site.lease.stepDown();
    await this.#teardown;
    await this.#http?.close();
    this.#site.executor[Symbol.dispose]();
    await Promise.all([
      this.#site.sql.end({ timeout: 1 }),
      this.#leaseSql.end({ timeout: 1 }),
    ]);
    await closeTelemetry(this.#site.telemetry);
  }

  /** One round of the lease loop: renew, or try to take the lease. */
  async #tick(): Promise<void> {
    if (this.#stopping) return;
    const { lease } = this.#site;
    const started = lease.attemptStarted();
    try {
      if (lease.role === "leader") await this.#renew(started);
      else await this.#take(started);
      this.#lastError = "";
    } catch (error) {
      this.#failedRound(error);
    } finally {
      if (!this.#stopping) {
        const wait = started + lease.renewIntervalMs - performance.now();
        this.#timer = setTimeout(() => void this.#tick(), Math.max(0, wait));
      }
    }
  }

  async #renew(started: number): Promise<void> {
    const { lease, nodeId } = this.#site;
    if (lease.mustStepDown) return this.#stepDown("lease not renewed in time");
    const ok = await renewLease(this.#leaseSql, {
      nodeId,
      term: lease.term,
      leaseMs: lease.leaseMs,
    });
    if (!ok) return this.#stepDown("the lease is held by another node");
    lease.renewed(started);
    this.#arm();
  }

  async #take(started: number): Promise<void> {
    const { lease, nodeId } = this.#site;
    const term = await takeLease(this.#leaseSql, nodeId, lease.leaseMs);
    if (term === undefined) return;
    lease.acquired(term, started);
    this.#arm();
    // Not awaited: the lease is renewed while a large state loads.
    void this.#lead(term);
  }

  /** Loads the state and starts leading, unless deposed or stopped meanwhile. */
  async #lead(term: bigint): Promise<void> {
    await this.#teardown;
    let leadership: Leadership | undefined;
    try {
      leadership = await lead(this.#site, term);
    } catch (error) {
      this.#stepDown(`takeover failed: ${pgReason(this.#site.url, error)}`);
      return;
    }
    if (leadership === undefined) return;
    if (this.#stopping || this.#site.lease.term !== term) {
      await abandon(leadership);
      return;
    }
    this.#leadership = leadership;
  }

  #failedRound(error: unknown): void {
    const reason = pgReason(this.#site.url, error);
    const line = `lease ${
      this.#site.lease.role === "leader" ? "renewal" : "takeover"
    } failed: ${reason}`;
    if (reason !== this.#lastError) log.warn(line);
    else log.debug(line);
    this.#lastError = reason;
  }

  /** Steps down when the local deadline passes without a renewal. */
  #arm(): void {
    clearTimeout(this.#watchdog);
    const { lease } = this.#site;
    this.#watchdog = setTimeout(() => {
      if (lease.mustStepDown) this.#stepDown("lease not renewed in time");
    }, Math.max(0, lease.remainingMs) + 1);
  }

  /** Stops leading at once (cluster.md §3). */
  #stepDown(reason: string): void {
    const { lease } = this.#site;
    if (lease.role !== "leader") return;
    lease.stepDown();
    clearTimeout(this.#watchdog);
    log.warn(`stepped down (term ${lease.term}): ${reason}`);
    const leadership = this.#leadership;
    this.#leadership = undefined;
    if (leadership === undefined) return;
    const previous = this.#teardown;
    this.#teardown = previous.then(() => abandon(leadership)).catch(
      (error) => log.error(`step-down: ${String(error)}`),
    );
  }

  /** For the leadership's journal: a commit lost the lease or the database. */
  lost(reason: string): void {
    this.#stepDown(`commit failed: ${reason}`);
  }
}

/** The gauges' sources: the leadership in force, zero on a follower. */
function liveGauges(
  current: () => Leadership | undefined,
  http: HttpServer | undefined,
): Parameters<typeof registerGauges>[1] {
  const none = {
    jobs: { planned: 0, triggered: 0, executed: 0, failed: 0 },
    jobsTotal: 0,
    rulesTotal: 0,
    executionsPending: 0,
    executionsInflight: 0,
    runsRecorded: 0,
    jobsExpired: 0,
    jobsRecurring: 0,
  };
  return {
    scheduler: { stats: () => current()?.scheduler.stats() ?? none },
    journal: {
      get writable() {
        return current()?.journal.writable ?? false;
      },
    },
    server: {
      get connections() {
        return current()?.server.connections ?? 0;
      },
    },
    http,
    startedMs: performance.now(),
  };
}

/** The long-lived parts a leadership is built from. */
async function siteOf(
  config: Config,
  { url, sql, lease, registry, telemetry }: {
    url: string;
    sql: Pg;
    lease: LeaseState;
    registry: MetricsRegistry;
    telemetry: Telemetry;
  },
  node: () => ClusterNode,
): Promise<LeaderSite> {
  const startedMs = performance.now();
  const throttle = new FailureThrottle();
  const access = { current: await readAccess(config, registry, throttle) };
  const maxConnections = config.controller.maxConnections ??
    defaultMaxConnections(await readOpenFileLimit());
  const nodeId = config.cluster.nodeId ??
    `${Deno.hostname()}:${config.controller.listen.port}`;
  const executor = new RunnerExecutor({
    shell: config.shell,
    version: VERSION,
  });
  const current = () => node().leadership;
  const site: LeaderSite = {
    config,
    url,
    nodeId,
    sql,
    lease,
    registry,
    telemetry,
    executor,
    access,
    throttle,
    maxConnections,
    clock: SYSTEM_CLOCK,
    stat: statSource(registry, { compaction: "idle" }, {
      info: statInfo(config, access.current),
      uptimeNs: () => BigInt(Math.round((performance.now() - startedMs) * 1e6)),
      runsRecorded: () => current()?.scheduler.stats().runsRecorded ?? 0,
      jobsExpired: () => current()?.scheduler.stats().jobsExpired ?? 0,
      cluster: () => [lease.role, lease.role === "leader" ? lease.term : 0n],
    }),
    onLost: (reason) => node().lost(reason),
  };
  return site;
}
