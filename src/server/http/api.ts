/**
 * The HTTP API's front door: Bearer authentication before routing, then
 * every endpoint of http-api.md §3 on the command layer, JSON out.
 *
 * @module
 */
import { ANY_NAMESPACE } from "../../domain/namespace.ts";
import { logger } from "../../log.ts";
import type { Commands } from "../../scheduler/commands.ts";
import type { Metrics, TraceParent } from "../../scheduler/ports.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../../telemetry/prometheus.ts";
import { requestCounter, type RequestName } from "../../telemetry/requests.ts";
import type { RequestTracer } from "../../telemetry/telemetry.ts";
import type { Authenticator } from "../auth.ts";
import {
  type HttpHandler,
  type HttpRequest,
  SECURITY_HEADERS,
} from "./_http_types.ts";
import type { HttpResponse } from "./_http_write.ts";
import { failure, json } from "./_json.ts";
import { BadInput } from "./_request.ts";
import { executionsEndpoint } from "./api_executions.ts";
import { jobEndpoint, jobsEndpoint } from "./api_jobs.ts";
import { ruleEndpoint, rulesEndpoint } from "./api_rules.ts";
import { dashboardEndpoint, isDashboardPath } from "./dashboard.ts";
import { openApiDocument } from "./openapi.ts";

const log = logger("http");

/** What the cluster says this node is (`single` without a cluster). */
export type Role = "single" | "leader" | "follower";

/** What the API serves from. */
export interface ApiContext {
  readonly commands: Commands;
  /** The authenticator in force now (SIGHUP may replace it); none = off. */
  readonly auth: () => Authenticator | undefined;
  readonly role: () => Role;
  /** `GET /metrics`, rendered now. */
  readonly metricsText: () => string;
  /** `GET /stats`, rendered now. */
  readonly statsJson: () => string;
  readonly metrics: Metrics;
  /** One span per request but the public ones; absent when telemetry is off. */
  readonly trace?: RequestTracer;
  readonly version: string;
}

/** Endpoints reached without a token (spec: http-api.md §2). */
const PUBLIC_PATHS = new Set(["/health", "/health/leader", "/openapi.json"]);
const UNAUTHORIZED: HttpResponse = {
  status: 401,
  headers: [
    ["content-type", "application/json"],
    ["www-authenticate", "Bearer"],
    ...SECURITY_HEADERS,
  ],
  body: '{"error":"unauthorized"}',
};
/** Which protocol command an endpoint is, for `ztick_requests_total`. */
type Command = RequestName;

/** Builds the handler of the HTTP server. */
export function createApi(context: ApiContext): HttpHandler {
  const document = openApiDocument(context.version);
  const counted = requestCounter(context.metrics);
  return async (request) => {
    if (request.method === "GET" && isPublic(request.path)) {
      return answerPublic(context, request, document);
    }
    const span = context.trace?.startRequest(
      undefined,
      request.headers.get("x-request-id"),
      {
        method: request.method,
        traceparent: request.headers.get("traceparent"),
      },
    );
    let answered: [Command | undefined, HttpResponse];
    try {
      answered = await answer(context, request, span?.traceparent);
    } catch (error) {
      span?.end(false, undefined, 500);
      throw error;
    }
    const [command, response] = answered;
    const ok = response.status < 300;
    if (command !== undefined) counted(command, ok);
    span?.end(ok, command, response.status);
    return response;
  };
}

/** A request to an endpoint reached without a token. */
function answerPublic(
  context: ApiContext,
  request: HttpRequest,
  document: string,
): HttpResponse {
  try {
    return publicEndpoint(context, request, document);
  } catch (error) {
    return badInput(request, error);
  }
}

/**
 * Authenticates and routes a request; `span` is its span, kept with a job
 * a PUT schedules.
 */
async function answer(
  context: ApiContext,
  request: HttpRequest,
  span: TraceParent | undefined,
): Promise<[Command | undefined, HttpResponse]> {
  try {
    const namespace = await authenticate(context, request);
    if (namespace === undefined) return [undefined, UNAUTHORIZED];
    if (context.role() === "follower" && isDataPath(request.path)) {
      return [undefined, failure(503, "not leader")];
    }
    return await route(context, request, { namespace, span });
  } catch (error) {
    return [undefined, badInput(request, error)];
  }
}

/** The answer to a request found malformed; other errors are rethrown. */
function badInput(request: HttpRequest, error: unknown): HttpResponse {
  if (!(error instanceof BadInput)) throw error;
  log.info(`http request ${request.method} ${request.path}: ${error.message}`);
  return failure(error.status, error.message);
}

/** Endpoints a follower answers with 503 (spec: cluster.md §4). */
function isDataPath(path: string): boolean {
  return path === "/jobs" || path.startsWith("/jobs/") || path === "/rules" ||
    path.startsWith("/rules/") || path === "/executions" || path === "/stats";
}

function isPublic(path: string): boolean {
  return PUBLIC_PATHS.has(path) || isDashboardPath(path);
}

function publicEndpoint(
  context: ApiContext,
  request: HttpRequest,
  document: string,
): HttpResponse {
  switch (request.path) {
    case "/health":
      return json(200, '{"status":"ok"}');
    case "/health/leader": {
      const role = context.role();
      return json(
        role === "follower" ? 503 : 200,
        `{"status":"ok","role":"${role}"}`,
      );
    }
    case "/openapi.json":
      return json(200, document);
    default:
      return dashboardEndpoint(request);
  }
}

/** The namespace of the Bearer token (`*` with authentication off). */
async function authenticate(
  context: ApiContext,
  request: HttpRequest,
): Promise<string | undefined> {
  const auth = context.auth();
  if (auth === undefined) return ANY_NAMESPACE;
  const header = request.headers.get("authorization") ?? "";
  const secret = /^Bearer (.+)$/i.exec(header)?.[1];
  const outcome = await auth.verify(secret, request.peer.hostname);
  return outcome.kind === "accepted" ? outcome.namespace : undefined;
}

async function route(
  context: ApiContext,
  request: HttpRequest,
  { namespace, span }: { namespace: string; span: TraceParent | undefined },
): Promise<[Command | undefined, HttpResponse]> {
  const { path, method } = request;
  const { commands } = context;
  if (path === "/jobs") {
    return ["QUERY", jobsEndpoint(commands, request, namespace)];
  }
  if (path.startsWith("/jobs/")) {
    let command = JOB_COMMANDS[method];
    const named = (name: "CRON") => void (command = name);
    const response = await jobEndpoint(commands, request, {
      namespace,
      span,
      named,
    });
    return [command, response];
  }
  if (path === "/rules") {
    return ["LISTRULES", rulesEndpoint(commands, request, namespace)];
  }
  if (path.startsWith("/rules/")) {
    return [
      RULE_COMMANDS[method],
      await ruleEndpoint(commands, request, namespace),
    ];
  }
  if (path === "/executions") {
    return ["HISTORY", executionsEndpoint(commands, request, namespace)];
  }
  if (PUBLIC_PATHS.has(path) || isDashboardPath(path)) {
    return [undefined, failure(405, "method not allowed")];
  }
  if (path === "/metrics" || path === "/stats") {
    if (method !== "GET") {
      return [undefined, failure(405, "method not allowed")];
    }
    return path === "/metrics"
      ? [undefined, metricsResponse(context.metricsText())]
      : ["STAT", json(200, context.statsJson())];
  }
  return [undefined, failure(404, "not found")];
}

const JOB_COMMANDS: Readonly<Record<string, Command>> = {
  PUT: "SET",
  GET: "GET",
  DELETE: "REMOVE",
};
const RULE_COMMANDS: Readonly<Record<string, Command>> = {
  PUT: "RULE SET",
  DELETE: "REMOVERULE",
};

function metricsResponse(text: string): HttpResponse {
  return {
    status: 200,
    headers: [
      ["content-type", PROMETHEUS_CONTENT_TYPE],
      ["cache-control", "no-store"],
      ...SECURITY_HEADERS,
    ],
    body: text,
  };
}
