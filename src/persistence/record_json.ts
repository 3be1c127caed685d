import type { Mutation } from "../domain/mutation.ts";
import { type Runner, runnerFields } from "../domain/runner.ts";

/**
 * Writes a record as one compact JSON object, keys in the spec's order, the
 * execution time as an exact integer (spec: persistence.md §10).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatJson } from "./record_json.ts";
 *
 * assert.equal(
 *   formatJson({
 *     kind: "set",
 *     job: { id: "backup.daily", executionNs: 1775008800000000001n, status: "executed" },
 *   }),
 *   '{"type":"set","identifier":"backup.daily","execution":1775008800000000001,"status":"executed"}',
 * );
 * assert.equal(
 *   formatJson({
 *     kind: "ruleSet",
 *     rule: {
 *       id: "rule.events",
 *       pattern: "events.",
 *       runner: { kind: "amqp", dsn: "amqp://mq/", exchange: "x", routingKey: "job.due" },
 *     },
 *   }),
 *   '{"type":"rule_set","identifier":"rule.events","pattern":"events.",' +
 *     '"runner":{"type":"amqp","dsn":"amqp://mq/","exchange":"x","routing_key":"job.due"}}',
 * );
 * ```
 */
export function formatJson(mutation: Mutation): string {
  const s = JSON.stringify;
  switch (mutation.kind) {
    case "set": {
      const { id, executionNs, status } = mutation.job;
      // Built by hand: a bigint must not pass through a double.
      return `{"type":"set","identifier":${
        s(id)
      },"execution":${executionNs},"status":${s(status)}}`;
    }
    case "remove":
      return `{"type":"remove","identifier":${s(mutation.jobId)}}`;
    case "ruleSet": {
      const { id, pattern, runner } = mutation.rule;
      return `{"type":"rule_set","identifier":${s(id)},"pattern":${
        s(pattern)
      },"runner":${runnerJson(runner)}}`;
    }
    case "removeRule":
      return `{"type":"remove_rule","identifier":${s(mutation.ruleId)}}`;
  }
}

/** A runner as its JSON object: `type`, then its fields in snake case. */
function runnerJson(runner: Runner): string {
  const object: Record<string, unknown> = { type: runner.kind };
  for (const [name, value] of runnerFields(runner)) {
    object[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
  }
  return JSON.stringify(object);
}
