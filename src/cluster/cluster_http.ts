/**
 * The HTTP API of a node (spec: cluster.md §4, http-api.md): served on
 * every node; the data endpoints answer from the leadership in force, and
 * with 503 `{"error":"not leader"}` on a follower.
 *
 * @module
 */
import type { Config } from "../config/config.ts";
import type { Commands } from "../scheduler/commands.ts";
import { tracerOf } from "../daemon.ts";
import { createApi } from "../server/http/api.ts";
import type { HttpServer } from "../server/http/http_server.ts";
import { statsJson } from "../server/http/stats.ts";
import { listenHttp } from "../startup.ts";
import { Activity } from "../telemetry/activity.ts";
import { renderPrometheus } from "../telemetry/prometheus.ts";
import { VERSION } from "../version.ts";
import type { Leadership, LeaderSite } from "./leadership.ts";

/**
 * A follower's commands: never called, since a follower answers its data
 * endpoints with 503 before routing; a call would be a bug, so it throws.
 */
const NO_COMMANDS = new Proxy({}, {
  get() {
    throw new Error("not leader");
  },
}) as Commands;

/** The request tracer, when telemetry is on. */
function traceOf(site: LeaderSite) {
  const trace = tracerOf(site.telemetry);
  return trace !== undefined ? { trace } : {};
}

/** Binds the HTTP API when `[http] listen` is set. */
export function clusterHttp(
  config: Config,
  site: LeaderSite,
  leadership: () => Leadership | undefined,
): HttpServer | undefined {
  const { registry, lease } = site;
  const activity = new Activity(registry);
  const commands = (): Commands =>
    leadership()?.scheduler.commands ?? NO_COMMANDS;
  return listenHttp(
    config,
    createApi({
      get commands() {
        return commands();
      },
      auth: () => site.access.current.auth,
      role: () =>
        lease.leading && leadership() !== undefined ? "leader" : "follower",
      metricsText: () => renderPrometheus(registry),
      statsJson: () =>
        statsJson({
          stat: site.stat,
          activity,
          upcoming: (start, bucket, n) => commands().upcoming(start, bucket, n),
          nowMs: () => Date.now(),
        }),
      metrics: registry,
      ...traceOf(site),
      version: VERSION,
    }),
  );
}
