import { isJobStatus } from "../domain/job.ts";
import type { Mutation } from "../domain/mutation.ts";
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
 * (spec: persistence.md §2–§3).
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
      const { id, executionNs, status } = mutation.job;
      return `SET ${quoteToken(id)} ${executionNs} ${status}`;
    }
    case "remove":
      return `REMOVE ${quoteToken(mutation.jobId)}`;
    case "ruleSet": {
      const { id, pattern, runner } = mutation.rule;
      return ["RULE SET", id, pattern, runner.kind, ...runnerArgs(runner)]
        .map((token, i) => i === 0 ? token : quoteToken(token))
        .join(" ");
    }
    case "removeRule":
      return `REMOVERULE ${quoteToken(mutation.ruleId)}`;
  }
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
    case "SET": {
      const [id, ns, status, ...rest] = args;
      if (!id || ns === undefined || status === undefined || rest.length > 0) {
        throw new SyntaxError("SET needs <job_id> <execution_ns> <status>");
      }
      if (!isJobStatus(status)) {
        throw new SyntaxError(`unknown status "${status}"`);
      }
      return { kind: "set", job: { id, executionNs: parseInt64(ns), status } };
    }
    case "REMOVE":
      return { kind: "remove", jobId: soleIdentifier(keyword, args) };
    case "REMOVERULE":
      return { kind: "removeRule", ruleId: soleIdentifier(keyword, args) };
    case "RULE": {
      const [set, ruleId, pattern, type, ...runner] = args;
      if (set !== "SET") throw new SyntaxError("unknown record RULE");
      return {
        kind: "ruleSet",
        rule: parseRule(ruleId, pattern, type, runner),
      };
    }
    default:
      throw new SyntaxError(`unknown record "${keyword}"`);
  }
}

function soleIdentifier(keyword: string, args: readonly string[]): string {
  if (args.length !== 1 || !args[0]) {
    throw new SyntaxError(`${keyword} needs exactly one identifier`);
  }
  return args[0];
}
