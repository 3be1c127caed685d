import type { Command } from "../domain/command.ts";
import type { Rule } from "../domain/rule.ts";
import { isOptionToken, parseRuleOptions } from "../domain/rule_options.ts";
import { parseRunner } from "../domain/runner.ts";
import { parseCronArgs } from "../domain/schedule.ts";
import { parseTimestamp } from "../domain/timestamp.ts";
import { tokenize } from "./tokens.ts";

/** A request line read into a value, or why it cannot be (spec: protocol.md §4). */
export type Request =
  | {
    readonly kind: "command";
    readonly requestId: string;
    readonly command: Command;
  }
  | { readonly kind: "auth"; readonly secret: string | undefined }
  | {
    readonly kind: "invalid";
    /** Set when the request id was readable, so the client gets `<id> ERROR`. */
    readonly requestId: string | undefined;
    readonly reason: string;
  };

/**
 * Reads one non-blank request line (without its LF) into a command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRequest } from "./request.ts";
 *
 * assert.deepEqual(parseRequest("r1 GET backup.daily"), {
 *   kind: "command",
 *   requestId: "r1",
 *   command: { kind: "get", jobId: "backup.daily" },
 * });
 * assert.equal(parseRequest("r1 FOO").kind, "invalid");
 * ```
 */
export function parseRequest(line: string): Request {
  const { tokens, error } = tokenize(line);
  const requestId = tokens[0] || undefined;
  if (requestId === "AUTH") {
    return {
      kind: "auth",
      secret: error === undefined ? tokens[1] : undefined,
    };
  }
  if (requestId === undefined) {
    return { kind: "invalid", requestId, reason: error ?? "no request id" };
  }
  if (error !== undefined) return { kind: "invalid", requestId, reason: error };
  try {
    return { kind: "command", requestId, command: parseCommand(tokens) };
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return { kind: "invalid", requestId, reason: error.message };
  }
}

/** Reads the tokens after the request id; throws `SyntaxError`. */
function parseCommand(tokens: readonly string[]): Command {
  const instruction = tokens[1];
  if (instruction === "SET") { // the hot path: no rest arrays
    return {
      kind: "set",
      jobId: identifier("job", tokens[2]),
      executionNs: parseTimestamp(tokens.slice(3)),
    };
  }
  const args = tokens.slice(2);
  switch (instruction) {
    case "GET":
      return { kind: "get", jobId: identifier("job", args[0]) };
    case "QUERY":
      return { kind: "query", prefix: args[0] ?? "" };
    case "REMOVE":
      return { kind: "remove", jobId: identifier("job", args[0]) };
    case "REMOVERULE":
      return { kind: "removeRule", ruleId: identifier("rule", args[0]) };
    case "LISTRULES":
      return { kind: "listRules" };
    case "STAT":
      return { kind: "stat" };
    case "HISTORY":
      return { kind: "history", jobId: identifier("job", args[0]) };
    case "CRON": {
      const [jobId, expression, ...options] = args;
      if (expression === undefined) {
        throw new SyntaxError("CRON needs a job and an expression");
      }
      const schedule = parseCronArgs(expression, options);
      return { kind: "cron", jobId: identifier("job", jobId), schedule };
    }
    case "RULE": {
      const [subcommand, ruleId, pattern, ...rest] = args;
      if (subcommand !== "SET") {
        throw new SyntaxError(`unknown instruction "RULE ${subcommand ?? ""}"`);
      }
      return { kind: "ruleSet", rule: parseRule(ruleId, pattern, rest) };
    }
    case undefined:
      throw new SyntaxError("missing instruction");
    default:
      throw new SyntaxError(`unknown instruction "${instruction}"`);
  }
}

/**
 * Builds a rule from RULE SET arguments: its id, its pattern, then `rest`,
 * the option tokens (those with `=`) up to the runner type, the type and
 * the runner's arguments (spec: protocol.md §6, extensions.md §1); throws
 * `SyntaxError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRule } from "./request.ts";
 *
 * assert.deepEqual(parseRule("r", "hook.", ["retries=2", "shell", "true"]), {
 *   id: "r",
 *   pattern: "hook.",
 *   options: { retries: 2 },
 *   runner: { kind: "shell", command: "true" },
 * });
 * ```
 */
export function parseRule(
  ruleId: string | undefined,
  pattern: string | undefined,
  rest: readonly string[],
): Rule {
  const id = identifier("rule", ruleId);
  if (pattern === undefined) throw new SyntaxError("missing rule pattern");
  let typeAt = 0;
  while (typeAt < rest.length && isOptionToken(rest[typeAt]!)) typeAt++;
  const type = rest[typeAt];
  if (type === undefined) throw new SyntaxError("missing runner type");
  const runner = parseRunner(type, rest.slice(typeAt + 1));
  if (typeAt === 0) return { id, pattern, runner };
  const options = parseRuleOptions(rest.slice(0, typeAt));
  return options === undefined
    ? { id, pattern, runner }
    : { id, pattern, options, runner };
}

function identifier(what: string, value: string | undefined): string {
  if (!value) throw new SyntaxError(`missing or empty ${what} identifier`);
  return value;
}
