/**
 * The HTTP API's JSON: compact, keys in the spec's order, nanosecond
 * integers exact (never through a double), errors as `{"error": …}`
 * (spec: http-api.md §1, §4, §5).
 *
 * @module
 */
import { attemptOf, type Job } from "../../domain/job.ts";
import type { StatEntry } from "../../domain/result.ts";
import type { Rule } from "../../domain/rule.ts";
import { ruleOptionsObject } from "../../domain/rule_options.ts";
import { type Run, runFieldsJson } from "../../domain/run.ts";
import type { HttpResponse } from "./_http_write.ts";
import { SECURITY_HEADERS } from "./_http_types.ts";

const s = JSON.stringify;

/** Headers of every JSON answer: private to the token, never cached. */
const JSON_HEADERS: readonly (readonly [string, string])[] = [
  ["content-type", "application/json"],
  ["cache-control", "no-store"],
  ...SECURITY_HEADERS,
];

/** A JSON answer whose body is already rendered. */
export function json(status: number, body: string): HttpResponse {
  return { status, headers: JSON_HEADERS, body };
}

/** `{"error":"<message>"}` with its status. */
export function failure(status: number, message: string): HttpResponse {
  return json(status, `{"error":${s(message)}}`);
}

/** 204, no body. */
export const NO_CONTENT: HttpResponse = {
  status: 204,
  headers: SECURITY_HEADERS,
};

/**
 * A job object: `{"id","status","execution"}`, then `"attempt"` when above
 * 1, then `"cron"`, `"tz"`, `"catchup"` for a recurring job (spec:
 * http-api.md §4).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jobJson } from "./_json.ts";
 *
 * assert.equal(
 *   jobJson({ id: "deploy.v1", status: "planned", executionNs: 1775822400000000001n }),
 *   '{"id":"deploy.v1","status":"planned","execution":1775822400000000001}',
 * );
 * ```
 */
export function jobJson(job: Job): string {
  const attempt = attemptOf(job);
  const { schedule } = job;
  return `{"id":${s(job.id)},"status":${
    s(job.status)
  },"execution":${job.executionNs}${
    attempt > 1 ? `,"attempt":${attempt}` : ""
  }${
    schedule === undefined
      ? ""
      : `,"cron":${s(schedule.expression)},"tz":${s(schedule.tz)},"catchup":${
        s(schedule.catchup)
      }`
  }}`;
}

/**
 * A rule summary: `{"id","pattern","runner"}`, then its `"options"` in
 * canonical form when it has some.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ruleJson } from "./_json.ts";
 *
 * assert.equal(
 *   ruleJson({
 *     id: "rule.hook",
 *     pattern: "hook.",
 *     options: { retries: 5, backoffMs: 30_000 },
 *     runner: { kind: "http", method: "POST", url: "http://127.0.0.1/" },
 *   }),
 *   '{"id":"rule.hook","pattern":"hook.","runner":"http","options":{"retries":5,"backoff":"30s"}}',
 * );
 * ```
 */
export function ruleJson(rule: Rule): string {
  const options = rule.options === undefined
    ? ""
    : `,"options":${s(ruleOptionsObject(rule.options))}`;
  return `{"id":${s(rule.id)},"pattern":${s(rule.pattern)},"runner":${
    s(rule.runner.kind)
  }${options}}`;
}

/**
 * A run object, keys in the spec's order, times exact (spec: http-api.md
 * §7).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runJson } from "./_json.ts";
 *
 * assert.equal(
 *   runJson({
 *     jobId: "backup.daily",
 *     attempt: 1,
 *     startedNs: 1775008800000412000n,
 *     endedNs: 1775008801234000000n,
 *     outcome: "failed",
 *     ruleId: "rule.backup",
 *     detail: "exit:3",
 *     message: "exited with code 3: rsync: connection refused",
 *   }),
 *   '{"job":"backup.daily","attempt":1,"started":1775008800000412000,' +
 *     '"ended":1775008801234000000,"outcome":"failed","rule":"rule.backup",' +
 *     '"detail":"exit:3","message":"exited with code 3: rsync: connection refused"}',
 * );
 * ```
 */
export function runJson(run: Run): string {
  return `{"job":${s(run.jobId)},${runFieldsJson(run)}}`;
}

/** A JSON array of already rendered items. */
export function array<T>(
  items: Iterable<T>,
  render: (item: T) => string,
): string {
  let text = "";
  for (const item of items) {
    text += text === "" ? render(item) : `,${render(item)}`;
  }
  return `[${text}]`;
}

/** STAT entries as one object, in order, numbers as numbers (exact). */
export function statJson(entries: readonly StatEntry[]): string {
  const fields = entries.map(([key, value]) =>
    `${s(key)}:${typeof value === "string" ? s(value) : String(value)}`
  );
  return `{${fields.join(",")}}`;
}
