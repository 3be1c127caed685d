import { isJobStatus, type Job, type JobStatus } from "../domain/job.ts";
import type { Mutation } from "../domain/mutation.ts";
import { ruleOptionTokens } from "../domain/rule_options.ts";
import { isRunOutcome, type Run } from "../domain/run.ts";
import { parseSchedule } from "../domain/schedule.ts";
import { runnerArgs } from "../domain/runner.ts";
import { parseInt64 } from "../domain/timestamp.ts";
import { parseRule } from "../protocol/request.ts";
import {
  hasForbiddenCharacter,
  isBlank,
  quoteToken,
  tokenize,
} from "../protocol/tokens.ts";

/**
 * Writes a mutation as one canonical logfile line, without its LF
 * (spec: persistence.md §2–§3, extensions.md §5): a job's attempt only
 * above 1, a rule's options between pattern and runner type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRecord } from "./record.ts";
 *
 * assert.equal(
 *   formatRecord({
 *     kind: "ruleSet",
 *     rule: {
 *       id: "rule.report",
 *       pattern: "report.",
 *       runner: { kind: "shell", command: '/usr/bin/report --title "Q1"' },
 *     },
 *   }),
 *   'RULE SET rule.report report. shell "/usr/bin/report --title \\"Q1\\""',
 * );
 * ```
 */
export function formatRecord(mutation: Mutation): string {
  switch (mutation.kind) {
    case "set": {
      const { id, executionNs, status, attempt, schedule } = mutation.job;
      let line = `SET ${quoteToken(id)} ${executionNs} ${status}`;
      if (attempt !== undefined && attempt > 1) line += ` attempt=${attempt}`;
      return schedule === undefined
        ? line
        : line + scheduleFields(mutation.job);
    }
    case "remove":
      return `REMOVE ${quoteToken(mutation.jobId)}`;
    case "ruleSet": {
      const { id, pattern, options, runner } = mutation.rule;
      return [
        "RULE SET",
        id,
        pattern,
        ...ruleOptionTokens(options),
        runner.kind,
        ...runnerArgs(runner),
      ].map((token, i) => i === 0 ? token : quoteToken(token)).join(" ");
    }
    case "removeRule":
      return `REMOVERULE ${quoteToken(mutation.ruleId)}`;
    case "run":
      return formatRun(mutation.run);
  }
}

/**
 * ` cron=<expression> tz=<zone> catchup=<policy> [occurrence=<ns>]`, each
 * one token, quoted as a whole when needed (spec: extensions.md §5).
 */
function scheduleFields({ schedule, occurrenceNs }: Job): string {
  const { expression, tz, catchup } = schedule!;
  const text = ` ${quoteToken(`cron=${expression}`)} ${
    quoteToken(`tz=${tz}`)
  } catchup=${catchup}`;
  return occurrenceNs === undefined
    ? text
    : `${text} occurrence=${occurrenceNs}`;
}

/** `RUN <job_id> <attempt> <started_ns> <ended_ns> <outcome> <rule_id> <detail> <message>`. */
function formatRun(run: Run): string {
  return `RUN ${
    quoteToken(run.jobId)
  } ${run.attempt} ${run.startedNs} ${run.endedNs} ${run.outcome} ${
    quoteToken(run.ruleId)
  } ${quoteToken(run.detail)} ${quoteToken(run.message)}`;
}

/**
 * Reads one logfile line (without LF or CR) into a mutation; blank and `#`
 * lines give `undefined`. Throws `SyntaxError` for a corrupt line
 * (spec: persistence.md §2–§3).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRecord } from "./record.ts";
 *
 * assert.deepEqual(parseRecord("SET backup.daily 1775008800000000000 executed"), {
 *   kind: "set",
 *   job: {
 *     id: "backup.daily",
 *     executionNs: 1775008800000000000n,
 *     status: "executed",
 *   },
 * });
 * assert.equal(parseRecord("  # a comment"), undefined);
 * ```
 */
export function parseRecord(line: string): Mutation | undefined {
  return parseCanonicalSet(line) ?? parseTokenizedRecord(line);
}

/**
 * Reads a `SET` line in the exact canonical shape the daemon writes (bare
 * tokens, single spaces, valid values) about four times faster than
 * tokenizing it, which matters when replaying a million lines; returns
 * `undefined` for any other line. For the lines it accepts the result equals
 * {@link parseTokenizedRecord}'s (checked by tests).
 */
export function parseCanonicalSet(line: string): Mutation | undefined {
  if (!line.startsWith("SET ")) return undefined;
  const idEnd = line.indexOf(" ", 4);
  const nsEnd = idEnd === -1 ? -1 : line.indexOf(" ", idEnd + 1);
  if (idEnd <= 4 || nsEnd <= idEnd + 1) return undefined;
  if (line.indexOf(" ", nsEnd + 1) !== -1 || line.includes('"')) {
    return undefined;
  }
  const status = line.slice(nsEnd + 1);
  if (!isJobStatus(status)) return undefined;
  const id = line.slice(4, idEnd);
  if (hasForbiddenCharacter(id)) return undefined;
  let executionNs: bigint;
  try {
    executionNs = parseInt64(line.slice(idEnd + 1, nsEnd));
  } catch {
    return undefined; // parseTokenizedRecord reports why
  }
  return { kind: "set", job: { id, executionNs, status } };
}

/**
 * Reads any logfile line by tokenizing it, as {@link parseRecord} does for
 * lines {@link parseCanonicalSet} leaves; throws `SyntaxError` when corrupt.
 */
export function parseTokenizedRecord(line: string): Mutation | undefined {
  if (isBlank(line) || /^ *#/.test(line)) return undefined;
  const { tokens, error } = tokenize(line);
  if (error !== undefined) throw new SyntaxError(error);
  const [keyword, ...args] = tokens;
  switch (keyword) {
    case "SET":
      return { kind: "set", job: parseJob(args) };
    case "RUN":
      return { kind: "run", run: parseRun(args) };
    case "REMOVE":
      return { kind: "remove", jobId: soleIdentifier(keyword, args) };
    case "REMOVERULE":
      return { kind: "removeRule", ruleId: soleIdentifier(keyword, args) };
    case "RULE": {
      const [set, ruleId, pattern, ...rest] = args;
      if (set !== "SET") throw new SyntaxError("unknown record RULE");
      return { kind: "ruleSet", rule: parseRule(ruleId, pattern, rest) };
    }
    default:
      throw new SyntaxError(`unknown record "${keyword}"`);
  }
}

const SET_FIELDS = ["attempt", "cron", "tz", "catchup", "occurrence"];

/**
 * `<job_id> <execution_ns> <status> [attempt=<k>] [cron=… tz=… catchup=…
 * [occurrence=<ns>]]` (spec: extensions.md §5); `attempt=1` is read but
 * not kept, as it is never written; `occurrence` only when it differs.
 */
function parseJob(args: readonly string[]): Job {
  const [id, ns, status, ...fields] = args;
  if (!id || ns === undefined || status === undefined) {
    throw new SyntaxError("SET needs <job_id> <execution_ns> <status>");
  }
  if (!isJobStatus(status)) {
    throw new SyntaxError(`unknown status "${status}"`);
  }
  const executionNs = parseInt64(ns);
  const job: { -readonly [K in keyof Job]: Job[K] } = {
    id,
    executionNs,
    status: status as JobStatus,
  };
  const given = new Map<string, string>();
  for (const field of fields) {
    const equals = field.indexOf("=");
    if (equals < 1) {
      throw new SyntaxError(`SET field "${field}" is not key=value`);
    }
    const key = field.slice(0, equals);
    if (given.has(key)) throw new SyntaxError(`SET field "${key}" given twice`);
    if (!SET_FIELDS.includes(key)) {
      throw new SyntaxError(`unknown SET field "${field}"`);
    }
    given.set(key, field.slice(equals + 1));
  }
  const attempt = given.get("attempt");
  if (attempt !== undefined && positive("attempt", attempt) > 1) {
    job.attempt = positive("attempt", attempt);
  }
  const cron = given.get("cron");
  const tz = given.get("tz");
  const catchup = given.get("catchup");
  const occurrence = given.get("occurrence");
  if (cron === undefined || tz === undefined || catchup === undefined) {
    if (given.size > (attempt === undefined ? 0 : 1)) {
      throw new SyntaxError("SET needs cron=, tz= and catchup= together");
    }
    return job;
  }
  job.schedule = parseSchedule(cron, { tz, catchup });
  if (occurrence !== undefined) {
    const occurrenceNs = parseInt64(occurrence);
    if (occurrenceNs !== executionNs) job.occurrenceNs = occurrenceNs;
  }
  return job;
}

/** `RUN`'s eight fields (spec: extensions.md §5). */
function parseRun(args: readonly string[]): Run {
  const [jobId, attempt, started, ended, outcome, ruleId, detail, message] =
    args;
  if (args.length !== 8 || !jobId || !detail) {
    throw new SyntaxError(
      "RUN needs <job_id> <attempt> <started_ns> <ended_ns> <outcome> <rule_id> <detail> <message>",
    );
  }
  if (!isRunOutcome(outcome!)) {
    throw new SyntaxError(`unknown outcome "${outcome}"`);
  }
  if (detail.includes(" ")) throw new SyntaxError("RUN detail has a space");
  return {
    jobId,
    attempt: positive("attempt", attempt!),
    startedNs: parseInt64(started!),
    endedNs: parseInt64(ended!),
    outcome,
    ruleId: ruleId!,
    detail,
    message: message!,
  };
}

function positive(what: string, text: string): number {
  const value = /^[0-9]{1,9}$/.test(text) ? Number(text) : 0;
  if (value < 1) throw new SyntaxError(`${what} "${text}" is not positive`);
  return value;
}

function soleIdentifier(keyword: string, args: readonly string[]): string {
  if (args.length !== 1 || !args[0]) {
    throw new SyntaxError(`${keyword} needs exactly one identifier`);
  }
  return args[0];
}
