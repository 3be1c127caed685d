/**
 * `GET /executions` of the HTTP API: a job's runs (the protocol's HISTORY)
 * or the latest failed runs across all jobs (spec: http-api.md §3, §7).
 *
 * @module
 */
import type { Commands } from "../../scheduler/commands.ts";
import type { HttpRequest } from "./_http_types.ts";
import type { HttpResponse } from "./_http_write.ts";
import { array, failure, json, runJson } from "./_json.ts";
import { BadInput, readLimit, readQuery } from "./_request.ts";
import { answerFailure } from "./api_jobs.ts";

/** How many failed runs `failed=1` lists without a `limit`. */
const FAILED_DEFAULT = 50;

/**
 * `GET /executions?job=<id>` (oldest first; 403 outside the namespace,
 * checked before 404) or `GET /executions?failed=1&limit=<n>` (newest
 * first); exactly one of the two, else 400 `invalid query`; 405 for other
 * methods.
 */
export function executionsEndpoint(
  commands: Commands,
  request: HttpRequest,
  namespace: string,
): HttpResponse {
  if (request.method !== "GET") return failure(405, "method not allowed");
  const query = readQuery(request.query);
  const job = query.get("job");
  const failed = query.get("failed");
  const limit = readLimit(query.get("limit"));
  if ((job === undefined) === (failed === undefined)) throw invalidQuery();
  if (job !== undefined) {
    if (job === "" || limit !== undefined) throw invalidQuery();
    // forbidden outside the namespace, checked before not found
    const result = commands.history(job, namespace);
    if (result.kind !== "runs") return answerFailure(result);
    return json(200, array(result.runs, runJson));
  }
  if (failed !== "1") throw invalidQuery();
  const result = commands.failedRuns(limit ?? FAILED_DEFAULT, namespace);
  if (result.kind !== "runs") return answerFailure(result);
  return json(200, array(result.runs, runJson));
}

function invalidQuery(): BadInput {
  return new BadInput(400, "invalid query");
}
