/**
 * `/rules` and `/rules/{id}` of the HTTP API: the protocol's RULE SET,
 * REMOVERULE and LISTRULES, with the runner arguments as a token list
 * (spec: http-api.md §3, §4).
 *
 * @module
 */
import { isInside } from "../../domain/namespace.ts";
import type { Rule } from "../../domain/rule.ts";
import {
  type RuleOptions,
  ruleOptionsFromObject,
} from "../../domain/rule_options.ts";
import { parseRunner, type Runner } from "../../domain/runner.ts";
import type { Commands } from "../../scheduler/commands.ts";
import type { HttpRequest } from "./_http_types.ts";
import type { HttpResponse } from "./_http_write.ts";
import { array, failure, json, NO_CONTENT, ruleJson } from "./_json.ts";
import {
  BadInput,
  invalidJson,
  readBody,
  readId,
  readQuery,
  stringField,
} from "./_request.ts";
import { answerFailure, committed } from "./api_jobs.ts";

const RULES_PATH = "/rules/";

/** The runners PUT /rules takes, each with its message for bad `args`. */
const RUNNER_MESSAGES: Readonly<Record<string, string>> = {
  shell: "invalid shell runner arguments",
  direct: "invalid direct runner arguments",
  awf: "missing workflow argument",
  http: "invalid http runner arguments",
};

/** `PUT` and `DELETE /rules/{id}`; other methods are 404 (spec §3). */
export async function ruleEndpoint(
  commands: Commands,
  request: HttpRequest,
  namespace: string,
): Promise<HttpResponse> {
  const id = readId(request.path, RULES_PATH);
  if (!isInside(namespace, id)) return failure(403, "forbidden");
  switch (request.method) {
    case "PUT": {
      const rule = readRule(id, readBody(request));
      if (!isInside(namespace, rule.pattern)) return failure(403, "forbidden");
      const result = commands.ruleSet(rule, namespace);
      if (result.kind !== "done") return answerFailure(result);
      return await committed(result.committed, () => json(200, ruleJson(rule)));
    }
    case "DELETE": {
      const result = commands.removeRule(id, namespace);
      if (result.kind !== "done") return answerFailure(result);
      return await committed(result.committed, () => NO_CONTENT);
    }
    default:
      return failure(404, "not found");
  }
}

/** `GET /rules?prefix=` (prefix of rule ids); 405 for other methods. */
export function rulesEndpoint(
  commands: Commands,
  request: HttpRequest,
  namespace: string,
): HttpResponse {
  if (request.method !== "GET") return failure(405, "method not allowed");
  const prefix = readQuery(request.query).get("prefix") ?? "";
  const result = commands.listRules(namespace);
  if (result.kind !== "rules") return answerFailure(result);
  const rules = result.rules.filter((rule) => rule.id.startsWith(prefix));
  return json(200, array(rules, ruleJson));
}

/**
 * The rule a PUT body describes: `pattern`, `runner`, `args` and the
 * optional `options` (spec: http-api.md §4, extensions.md §1).
 */
function readRule(id: string, body: Record<string, unknown>): Rule {
  const pattern = stringField(body, "pattern");
  const type = stringField(body, "runner");
  const args = body.args;
  if (pattern === undefined || type === undefined) throw invalidJson();
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw invalidJson();
  }
  const runner = readRunner(type, args);
  const options = readOptions(body.options);
  return options === undefined
    ? { id, pattern, runner }
    : { id, pattern, options, runner };
}

/** The `options` object; absent or `{}` means none. */
function readOptions(value: unknown): RuleOptions | undefined {
  if (value === undefined) return undefined;
  try {
    return ruleOptionsFromObject(value);
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new BadInput(400, "invalid rule options");
    }
    throw error;
  }
}

function readRunner(type: string, args: string[]): Runner {
  const message = RUNNER_MESSAGES[type];
  if (!Object.hasOwn(RUNNER_MESSAGES, type) || message === undefined) {
    throw new BadInput(400, "unsupported runner type");
  }
  try {
    return parseRunner(type, args);
  } catch (error) {
    if (error instanceof SyntaxError) throw new BadInput(400, message);
    throw error;
  }
}
