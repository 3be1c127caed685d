/**
 * All TCP answer text: what a result looks like on the wire, after its
 * request id (spec: protocol.md §4, §6, §9).
 *
 * @module
 */
import type { Rule } from "../domain/rule.ts";
import { ruleOptionTokens } from "../domain/rule_options.ts";
import { runnerArgs } from "../domain/runner.ts";
import type { Result } from "../domain/result.ts";
import type { Run } from "../domain/run.ts";

/** The answer to a successful AUTH, or to AUTH with authentication off. */
export const AUTH_OK = "OK\n";
/** The answer to a refused AUTH, or to any line before AUTH. */
export const AUTH_ERROR = "ERROR\n";

/** `<id> ERROR`, the answer to any failure. */
export function errorAnswer(requestId: string): string {
  return `${requestId} ERROR\n`;
}

/**
 * Renders a result as the answer lines of request `requestId`: data lines,
 * then `<id> OK` (GET: `<id> OK <status> <ns>`), or `<id> ERROR`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderAnswer } from "./answer.ts";
 *
 * const job = { id: "b.1", executionNs: 5n, status: "planned" } as const;
 * assert.equal(renderAnswer("r1", { kind: "job", job }), "r1 OK planned 5\n");
 * assert.equal(
 *   renderAnswer("r2", { kind: "jobs", jobs: [job] }),
 *   "r2 b.1 planned 5\nr2 OK\n",
 * );
 * assert.equal(
 *   renderAnswer("r3", { kind: "notFound", reason: "no such job" }),
 *   "r3 ERROR\n",
 * );
 * ```
 */
export function renderAnswer(requestId: string, result: Result): string {
  switch (result.kind) {
    case "job":
      return `${requestId} OK ${result.job.status} ${result.job.executionNs}\n`;
    case "jobs": {
      let text = "";
      for (const job of result.jobs) {
        text += `${requestId} ${job.id} ${job.status} ${job.executionNs}\n`;
      }
      return `${text}${requestId} OK\n`;
    }
    case "rules": {
      let text = "";
      for (const rule of result.rules) {
        text += `${requestId} ${renderRule(rule)}\n`;
      }
      return `${text}${requestId} OK\n`;
    }
    case "runs": {
      let text = "";
      for (const run of result.runs) {
        text += `${requestId} ${renderRun(run)}\n`;
      }
      return `${text}${requestId} OK\n`;
    }
    case "stats": {
      let text = "";
      for (const [key, value] of result.entries) {
        text += `${requestId} ${key} ${value}\n`;
      }
      return `${text}${requestId} OK\n`;
    }
    case "done":
      return `${requestId} OK\n`;
    default:
      return errorAnswer(requestId);
  }
}

/**
 * Renders a rule as LISTRULES shows it: values raw, space-separated, the
 * options given between pattern and runner type in canonical form
 * (spec: protocol.md §6, extensions.md §1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderRule } from "./answer.ts";
 *
 * assert.equal(
 *   renderRule({
 *     id: "rule.cache",
 *     pattern: "cache.",
 *     runner: { kind: "shell", command: "find /var/cache -delete" },
 *   }),
 *   "rule.cache cache. shell find /var/cache -delete",
 * );
 * ```
 */
export function renderRule(rule: Rule): string {
  return [
    rule.id,
    rule.pattern,
    ...ruleOptionTokens(rule.options),
    rule.runner.kind,
    ...runnerArgs(rule.runner),
  ].join(" ");
}

/**
 * Renders a run as a HISTORY line shows it, without the message: attempt,
 * start, end, outcome, rule, detail, raw (spec: extensions.md §3).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderRun } from "./answer.ts";
 *
 * assert.equal(
 *   renderRun({
 *     jobId: "backup.daily", attempt: 1, startedNs: 1775008800000412000n,
 *     endedNs: 1775008801234000000n, outcome: "failed",
 *     ruleId: "rule.backup", detail: "exit:3", message: "exited with code 3",
 *   }),
 *   "1 1775008800000412000 1775008801234000000 failed rule.backup exit:3",
 * );
 * ```
 */
export function renderRun(run: Run): string {
  return `${run.attempt} ${run.startedNs} ${run.endedNs} ${run.outcome} ${run.ruleId} ${run.detail}`;
}
