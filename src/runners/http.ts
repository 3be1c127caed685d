import type { Runner } from "../domain/runner.ts";
import { deadline } from "../deadline.ts";
import type { Execution, Outcome } from "../scheduler/ports.ts";
import { DETAIL, httpDetail } from "../domain/run.ts";
import { redactUrl } from "./redact.ts";
import { type Http1Client, type Http1Target } from "./_http1.ts";
import { utf8Length } from "../io.ts";

const ENCODER = new TextEncoder();

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

/** What the http runner needs besides the execution. */
export interface HttpOptions {
  /** Sent as `User-Agent: ztick/<version>`. */
  readonly version: string;
  /** Keep-alive client for plain `http://` URLs; `fetch` serves the rest. */
  readonly client?: Http1Client;
}

/**
 * Sends one request for an execution; 2xx is success, anything else
 * (redirects included) is a failure (spec: runners.md §5).
 */
export async function runHttp(
  runner: HttpRunner,
  { job, signal, traceparent }: Execution,
  options: HttpOptions,
): Promise<Outcome> {
  using limit = deadline(
    signal,
    HTTP_LIMIT_MS,
    () => new Error(`no answer within ${HTTP_LIMIT_MS / 1000} s`),
  );
  const withBody = runner.method === "POST" || runner.method === "PUT";
  const body = withBody ? httpBody(job) : undefined;
  const target = options.client?.target(runner.url);
  const headers = requestHeaders(options.version, traceparent);
  try {
    const status = target === undefined
      ? await fetchStatus(runner, body, headers, limit.signal)
      : await options.client!.send(
        target,
        encodeRequest(runner, target, body, headers),
        limit.signal,
      );
    const detail = httpDetail(status);
    if (status >= 200 && status < 300) return { ok: true, detail };
    return {
      ok: false,
      reason: `${redactUrl(runner.url)} answered ${status}`,
      detail,
    };
  } catch (error) {
    const reason = limit.signal.aborted ? limit.signal.reason : error;
    return {
      ok: false,
      reason: `${runner.method} ${redactUrl(runner.url)}: ${
        reason instanceof Error ? redactUrl(reason.message) : String(reason)
      }`,
      detail: DETAIL.error,
    };
  }
}

/**
 * `User-Agent`, and the execution span's `traceparent` when telemetry is on
 * (spec: runners.md §5, observability.md §2).
 */
function requestHeaders(
  version: string,
  traceparent: string | undefined,
): [string, string][] {
  const headers: [string, string][] = [["User-Agent", `ztick/${version}`]];
  if (traceparent !== undefined) headers.push(["traceparent", traceparent]);
  return headers;
}

/**
 * The request as bytes: head, then the JSON body of POST and PUT, encoded
 * in one piece (one allocation per request, not three).
 */
function encodeRequest(
  runner: HttpRunner,
  target: Http1Target,
  body: string | undefined,
  headers: readonly [string, string][],
): Uint8Array {
  let head =
    `${runner.method} ${target.path} HTTP/1.1\r\nHost: ${target.host}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  if (body === undefined) return ENCODER.encode(`${head}\r\n`);
  return ENCODER.encode(
    `${head}Content-Type: application/json\r\nContent-Length: ${
      utf8Length(body)
    }\r\n\r\n${body}`,
  );
}

/** Sends the request with `fetch`; resolves to the status, body read. */
async function fetchStatus(
  runner: HttpRunner,
  body: string | undefined,
  headers: readonly [string, string][],
  signal: AbortSignal,
): Promise<number> {
  const sent = new Headers(headers);
  if (body !== undefined) sent.set("Content-Type", "application/json");
  const response = await fetch(runner.url, {
    method: runner.method,
    headers: sent,
    redirect: "manual",
    signal,
    ...(body !== undefined ? { body } : {}),
  });
  // The body is read to the end (within the limit) and thrown away.
  if (response.body) {
    for await (const _ of response.body) {
      /* discard */
    }
  }
  return response.status;
}
