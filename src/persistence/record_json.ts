import type { Mutation } from "../domain/mutation.ts";
import { ruleOptionsObject } from "../domain/rule_options.ts";
import { type Run, runFieldsJson } from "../domain/run.ts";
import { type Runner, runnerFields } from "../domain/runner.ts";

/**
 * Writes a record as one compact JSON object, keys in the spec's order,
 * times as exact integers (spec: persistence.md §10, extensions.md §5): a
 * job's `attempt` after `status` when above 1, a rule's `options` after
 * `pattern` when it has some, runs as `run` objects.
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
      const { id, executionNs, status, attempt, schedule, occurrenceNs } =
        mutation.job;
      // Built by hand: a bigint must not pass through a double.
      let fields = attempt !== undefined && attempt > 1
        ? `,"attempt":${attempt}`
        : "";
      if (schedule !== undefined) {
        fields += `,"cron":${s(schedule.expression)},"tz":${
          s(schedule.tz)
        },"catchup":${s(schedule.catchup)}`;
        if (occurrenceNs !== undefined) {
          fields += `,"occurrence":${occurrenceNs}`;
        }
      }
      return `{"type":"set","identifier":${
        s(id)
      },"execution":${executionNs},"status":${s(status)}${fields}}`;
    }
    case "remove":
      return `{"type":"remove","identifier":${s(mutation.jobId)}}`;
    case "ruleSet": {
      const { id, pattern, options, runner } = mutation.rule;
      const given = options === undefined
        ? ""
        : `,"options":${s(ruleOptionsObject(options))}`;
      return `{"type":"rule_set","identifier":${s(id)},"pattern":${
        s(pattern)
      }${given},"runner":${runnerJson(runner)}}`;
    }
    case "removeRule":
      return `{"type":"remove_rule","identifier":${s(mutation.ruleId)}}`;
    case "run":
      return runJson(mutation.run);
  }
}

/** A run record as dump shows it (spec: extensions.md §5). */
function runJson(run: Run): string {
  return `{"type":"run","identifier":${JSON.stringify(run.jobId)},${
    runFieldsJson(run)
  }}`;
}

/** A runner as its JSON object: `type`, then its fields in snake case. */
function runnerJson(runner: Runner): string {
  const object: Record<string, unknown> = { type: runner.kind };
  for (const [name, value] of runnerFields(runner)) {
    object[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
  }
  return JSON.stringify(object);
}
