/**
 * `/jobs` and `/jobs/{id}` of the HTTP API: the protocol's SET, GET, QUERY
 * and REMOVE with JSON bodies (spec: http-api.md §3, §4).
 *
 * @module
 */
import { isJobStatus } from "../../domain/job.ts";
import { isInside } from "../../domain/namespace.ts";
import type { Result } from "../../domain/result.ts";
import { parseSchedule, type Schedule } from "../../domain/schedule.ts";
import { parseRfc3339 } from "../../domain/timestamp.ts";
import type { Commands } from "../../scheduler/commands.ts";
import type { TraceParent } from "../../scheduler/ports.ts";
import type { HttpRequest } from "./_http_types.ts";
import type { HttpResponse } from "./_http_write.ts";
import { array, failure, jobJson, json, NO_CONTENT } from "./_json.ts";
import {
  BadInput,
  invalidJson,
  readBody,
  readId,
  readLimit,
  readQuery,
  stringField,
} from "./_request.ts";

const JOBS_PATH = "/jobs/";

/** Who asks for a `/jobs/{id}` request, and how it is counted. */
export interface JobRequestContext {
  readonly namespace: string;
  /** The request's span, kept with the job a PUT schedules. */
  readonly span?: TraceParent | undefined;
  /** Told when a PUT is the protocol's CRON rather than SET. */
  readonly named?: (command: "CRON") => void;
}

/** `PUT`, `GET` and `DELETE /jobs/{id}`; 405 for other methods. */
export async function jobEndpoint(
  commands: Commands,
  request: HttpRequest,
  { namespace, span, named }: JobRequestContext,
): Promise<HttpResponse> {
  const id = readId(request.path, JOBS_PATH);
  if (!isInside(namespace, id)) return failure(403, "forbidden");
  switch (request.method) {
    case "PUT": {
      const body = readBody(request);
      if (body.cron !== undefined) named?.("CRON");
      const result = body.cron === undefined
        ? commands.set(id, readExecution(body), namespace, span)
        : commands.cron(id, readSchedule(body), namespace, span);
      if (result.kind !== "done") return answerFailure(result);
      return await committed(
        result.committed,
        () => json(200, jobJson(result.job!)),
      );
    }
    case "GET": {
      const result = commands.get(id, namespace);
      if (result.kind !== "job") return answerFailure(result);
      return json(200, jobJson(result.job));
    }
    case "DELETE": {
      const result = commands.remove(id, namespace);
      if (result.kind !== "done") return answerFailure(result);
      return await committed(result.committed, () => NO_CONTENT);
    }
    default:
      return failure(405, "method not allowed");
  }
}

/** `GET /jobs?prefix=&status=&limit=&after=`; 405 for other methods. */
export function jobsEndpoint(
  commands: Commands,
  request: HttpRequest,
  namespace: string,
): HttpResponse {
  if (request.method !== "GET") return failure(405, "method not allowed");
  const query = readQuery(request.query);
  const status = query.get("status");
  if (status !== undefined && !isJobStatus(status)) {
    throw new BadInput(400, "invalid query");
  }
  const limit = readLimit(query.get("limit"));
  const after = query.get("after");
  const result = commands.listJobs({
    prefix: query.get("prefix") ?? "",
    ...(status !== undefined ? { status } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(after !== undefined ? { after } : {}),
  }, namespace);
  if (result.kind !== "jobs") return answerFailure(result);
  return json(200, array(result.jobs, jobJson));
}

/** The `execution` of a PUT body: an RFC 3339 string. */
function readExecution(body: Record<string, unknown>): bigint {
  const execution = stringField(body, "execution");
  if (execution === undefined) throw invalidJson();
  try {
    return parseRfc3339(execution);
  } catch (error) {
    if (error instanceof SyntaxError) throw invalidJson();
    throw error;
  }
}

/**
 * The `cron`, `tz` and `catchup` of a PUT body for a recurring job, with
 * CRON's checks; `execution` must be absent (spec: http-api.md §4).
 */
function readSchedule(body: Record<string, unknown>): Schedule {
  if (body.execution !== undefined) throw invalidJson();
  const cron = stringField(body, "cron")!;
  const tz = stringField(body, "tz");
  const catchup = stringField(body, "catchup");
  try {
    return parseSchedule(cron, {
      ...(tz !== undefined ? { tz } : {}),
      ...(catchup !== undefined ? { catchup } : {}),
    });
  } catch (error) {
    if (error instanceof SyntaxError) throw invalidJson();
    throw error;
  }
}

/**
 * Answers once the mutation is durable (persistence.md §5): `ok()`, or
 * 503 `not persisted` when its group failed.
 */
export async function committed(
  commit: Promise<void>,
  ok: () => HttpResponse,
): Promise<HttpResponse> {
  try {
    await commit;
  } catch {
    return failure(503, "not persisted");
  }
  return ok();
}

/** The answer to a command that did not succeed. */
export function answerFailure(result: Result): HttpResponse {
  switch (result.kind) {
    case "notFound":
      return failure(404, "not found");
    case "forbidden":
      return failure(403, "forbidden");
    case "readOnly":
      return failure(503, "read-only");
    case "invalid":
      return failure(400, "invalid json");
    default:
      return failure(500, "internal error");
  }
}
