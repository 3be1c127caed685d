/**
 * What a node runs while it leads (spec: cluster.md §3): the state loaded
 * from the database, the fenced journal, the scheduler and the protocol
 * port; built at takeover, torn down at step-down.
 *
 * @module
 */
import type { Config } from "../config/config.ts";
import { buildScheduler, contextOf, tracerOf } from "../daemon.ts";
import type { StatEntry } from "../domain/result.ts";
import { formatAddr } from "../io.ts";
import { count, logger } from "../log.ts";
import type { RunnerExecutor } from "../runners/mod.ts";
import { JobStore } from "../scheduler/job_store.ts";
import type { Clock } from "../scheduler/ports.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import type { TcpServer } from "../server/tcp_server.ts";
import type { FailureThrottle } from "../server/auth.ts";
import { type Access, listenTcp } from "../startup.ts";
import type { Telemetry } from "../telemetry/telemetry.ts";
import type { MetricsRegistry } from "../telemetry/registry.ts";
import type { LeaseState } from "./lease.ts";
import type { Pg } from "./pg.ts";
import { PgJournal } from "./pg_journal.ts";
import { loadState } from "./pg_state.ts";

const log = logger("cluster");

/** What a leadership is built from; the node's long-lived parts. */
export interface LeaderSite {
  readonly config: Config;
  readonly url: string;
  readonly nodeId: string;
  readonly sql: Pg;
  readonly lease: LeaseState;
  readonly registry: MetricsRegistry;
  /** OpenTelemetry export, or the disabled one. */
  readonly telemetry: Telemetry;
  readonly executor: RunnerExecutor;
  readonly access: { current: Access };
  /** Failed authentications, counted across reloads. */
  readonly throttle: FailureThrottle;
  readonly maxConnections: number;
  readonly clock: Clock;
  readonly stat: () => readonly StatEntry[];
  /** Called when a commit shows the lease or the database lost. */
  readonly onLost: (reason: string) => void;
}

/** A running leadership. */
export interface Leadership {
  readonly term: bigint;
  readonly store: JobStore;
  readonly journal: PgJournal;
  readonly scheduler: Scheduler;
  readonly server: TcpServer;
}

/**
 * Loads the state, settles interrupted jobs, binds the protocol port and
 * starts firing; `undefined` when the lease was lost meanwhile.
 */
export async function lead(
  site: LeaderSite,
  term: bigint,
): Promise<Leadership | undefined> {
  const { config, lease } = site;
  const store = new JobStore({ history: config.execution.history });
  await loadState(site.sql, (mutation) => store.apply(mutation));
  if (!lease.leading || lease.term !== term) return undefined;
  const journal = new PgJournal(site.sql, {
    url: site.url,
    fence: { nodeId: site.nodeId, term },
    leading: () => lease.leading && lease.term === term,
    onLost: site.onLost,
    history: config.execution.history,
    metrics: site.registry,
  });
  const scheduler = buildScheduler(
    config,
    { store, journal, executor: site.executor },
    {
      registry: site.registry,
      clock: site.clock,
      stat: site.stat,
      tracer: site.telemetry,
    },
  );
  scheduler.settleInterrupted();
  log.info(
    `loaded ${count(store.jobCount, "job")}, ${count(store.ruleCount, "rule")}`,
  );
  const server = listenTcp(
    config,
    site.maxConnections,
    site.access.current.tls,
    contextOf(scheduler, site.access.current, {
      metrics: site.registry,
      trace: tracerOf(site.telemetry),
    }),
  );
  scheduler.start();
  log.info(`leader (term ${term})`);
  log.info(`listening on ${formatAddr(server.addr)}`);
  return { term, store, journal, scheduler, server };
}

/**
 * Steps down at once: no commit from now on, the port closed, running
 * executions aborted without recording an outcome.
 */
export async function abandon(leadership: Leadership): Promise<void> {
  leadership.journal.depose();
  await leadership.server.close();
  await leadership.scheduler.stop(0);
}

/** A graceful stop: connections closed, executions given `graceMs`. */
export async function resign(
  leadership: Leadership,
  graceMs: number,
): Promise<void> {
  await leadership.server.close();
  await leadership.scheduler.stop(graceMs);
  await leadership.journal.close();
}
