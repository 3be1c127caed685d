import type { Runner } from "../domain/runner.ts";
import type { Execution, Outcome } from "../scheduler/ports.ts";
import { redactUrl } from "./redact.ts";

/** The built-in limit for one HTTP exchange (spec: runners.md §5). */
const HTTP_LIMIT_MS = 30_000;

/** An http rule's runner. */
export type HttpRunner = Extract<Runner, { kind: "http" }>;

/**
 * Builds the JSON body of POST and PUT: job id escaped, execution as an
 * exact integer (spec: runners.md §5).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { httpBody } from "./http.ts";
 *
 * assert.equal(
 *   httpBody({ id: "deploy.release.42", executionNs: 1775044800000000000n }),
 *   '{"job_id":"deploy.release.42","execution":1775044800000000000}',
 * );
 * ```
 */
export function httpBody(job: { id: string; executionNs: bigint }): string {
  return `{"job_id":${JSON.stringify(job.id)},"execution":${job.executionNs}}`;
}

/**
 * Sends one request for an execution; 2xx is success, anything else
 * (redirects included) is a failure (spec: runners.md §5).
 */
export async function runHttp(
  runner: HttpRunner,
  { job, signal }: Execution,
  options: { readonly version: string },
): Promise<Outcome> {
  const limit = new AbortController();
  const timer = setTimeout(
    () => limit.abort(new Error(`no answer within ${HTTP_LIMIT_MS / 1000} s`)),
    HTTP_LIMIT_MS,
  );
  const abort = AbortSignal.any([signal, limit.signal]);
  const withBody = runner.method === "POST" || runner.method === "PUT";
  const headers: Record<string, string> = {
    "User-Agent": `ztick/${options.version}`,
  };
  if (withBody) headers["Content-Type"] = "application/json";
  try {
    const response = await fetch(runner.url, {
      method: runner.method,
      headers,
      redirect: "manual",
      signal: abort,
      ...(withBody ? { body: httpBody(job) } : {}),
    });
    // The body is read to the end (within the limit) and thrown away.
    if (response.body) {
      for await (const _ of response.body) {
        /* discard */
      }
    }
    if (response.status >= 200 && response.status < 300) return { ok: true };
    return {
      ok: false,
      reason: `${redactUrl(runner.url)} answered ${response.status}`,
    };
  } catch (error) {
    const reason = abort.aborted ? abort.reason : error;
    return {
      ok: false,
      reason: `${runner.method} ${redactUrl(runner.url)}: ${
        reason instanceof Error ? redactUrl(reason.message) : String(reason)
      }`,
    };
  } finally {
    clearTimeout(timer);
  }
}
