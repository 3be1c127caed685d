/**
 * What a client command prints for an `OK` answer: text, or JSON with
 * exact integers (spec: client.md §3, http-api.md §4, §7).
 *
 * @module
 */
import {
  parseJobLine,
  parseJobState,
  parseRuleLine,
  parseRunLine,
  parseStatLine,
} from "../protocol/answer_parse.ts";
import type { Job } from "../domain/job.ts";
import { formatTimestamp } from "../domain/timestamp.ts";
import type { ClientCommand } from "./args.ts";

/** A JSON integer: no leading zeros, so `JSON.rawJSON` takes it. */
const INTEGER = /^-?(0|[1-9][0-9]*)$/;

/**
 * Renders the data of a successful answer for stdout; `""` prints
 * nothing. `jobId` is the job of `get`. Throws `SyntaxError` for an answer
 * that cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderOutput } from "./output.ts";
 *
 * const ok = (value: string, data: string[] = []) => ({ kind: "ok", value, data }) as const;
 * assert.equal(
 *   renderOutput("get", ok("planned 1775008800000000000"), { json: false, jobId: "b" }),
 *   "planned 1775008800000000000 2026-04-01T02:00:00Z\n",
 * );
 * assert.equal(
 *   renderOutput("get", ok("planned 1775008800000000001"), { json: true, jobId: "b" }),
 *   '{"id":"b","status":"planned","execution":1775008800000000001}\n',
 * );
 * assert.equal(renderOutput("rm", ok(""), { json: true, jobId: "b" }), '{"ok":true}\n');
 * ```
 */
export function renderOutput(
  command: ClientCommand,
  answer: { readonly data: readonly string[]; readonly value: string },
  options: { readonly json: boolean; readonly jobId: string },
): string {
  const { data } = answer;
  const { json } = options;
  switch (command) {
    case "get": {
      const { status, executionNs } = parseJobState(answer.value);
      if (!json) {
        return `${status} ${executionNs} ${formatTimestamp(executionNs)}\n`;
      }
      return jsonLine(jobJson({ id: options.jobId, status, executionNs }));
    }
    case "query":
      return json
        ? jsonLine(data.map((line) => jobJson(parseJobLine(line))))
        : lines(data);
    case "history":
      return json
        ? jsonLine(data.map((line) => runJson(options.jobId, line)))
        : lines(data);
    case "rule ls":
      return json ? jsonLine(data.map(ruleJson)) : lines(data);
    case "stat":
      return json ? jsonLine(statJson(data)) : lines(data);
    default:
      return json ? jsonLine({ ok: true }) : "";
  }
}

function lines(data: readonly string[]): string {
  return data.map((line) => `${line}\n`).join("");
}

function jsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** `JSON.rawJSON` (ES2026, in V8), not yet in TypeScript's lib. */
const RAW_JSON = (JSON as unknown as { rawJSON(text: string): unknown })
  .rawJSON;

/** An integer that must not pass through a double. */
function exact(value: bigint | string): unknown {
  return RAW_JSON(String(value));
}

function jobJson(job: Job): unknown {
  return { id: job.id, status: job.status, execution: exact(job.executionNs) };
}

function runJson(jobId: string, line: string): unknown {
  const run = parseRunLine(line);
  return {
    job: jobId,
    attempt: run.attempt,
    started: exact(run.startedNs),
    ended: exact(run.endedNs),
    outcome: run.outcome,
    rule: run.rule,
    detail: run.detail,
  };
}

function ruleJson(line: string): unknown {
  const rule = parseRuleLine(line);
  const options = Object.fromEntries(
    rule.options.map((
      [key, value],
    ) => [key, INTEGER.test(value) ? exact(value) : value]),
  );
  return {
    id: rule.id,
    pattern: rule.pattern,
    runner: rule.runner,
    ...(rule.options.length > 0 ? { options } : {}),
    args: rule.args,
  };
}

function statJson(data: readonly string[]): unknown {
  return Object.fromEntries(data.map((line) => {
    const [key, value] = parseStatLine(line);
    return [key, INTEGER.test(value) ? exact(value) : value];
  }));
}
