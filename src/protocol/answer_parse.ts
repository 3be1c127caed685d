/**
 * Reading TCP answers back into values, for clients: the inverse of
 * answer.ts (spec: protocol.md §4, §6, §9; extensions.md §1, §3).
 *
 * @module
 */
import { isJobStatus, type Job, type JobStatus } from "../domain/job.ts";

/**
 * The shape of answer a request gets: `line` (GET and the mutations: one
 * line, `<id> OK [<value>]` or `<id> ERROR`) or `list` (QUERY, LISTRULES,
 * STAT, HISTORY: data lines, then `<id> OK`).
 */
export type AnswerShape = "line" | "list";

/** One request's complete answer. */
export type Answer =
  /** `value`: what follows `OK ` on the final line (GET), else `""`. */
  | {
    readonly kind: "ok";
    readonly data: readonly string[];
    readonly value: string;
  }
  | { readonly kind: "error" }
  /** A bare `ERROR`: the daemon wants AUTH first and hangs up (§9). */
  | { readonly kind: "unauthenticated" };

/**
 * Gathers the lines of one request's answer, in order, until its final
 * line. Throws `SyntaxError` for a line that does not belong to it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AnswerReader } from "./answer_parse.ts";
 *
 * const reader = new AnswerReader("r1", "list");
 * assert.equal(reader.add("r1 b.1 planned 5"), undefined);
 * assert.deepEqual(reader.add("r1 OK"), {
 *   kind: "ok",
 *   data: ["b.1 planned 5"],
 *   value: "",
 * });
 * assert.deepEqual(new AnswerReader("r2", "line").add("r2 OK planned 5"), {
 *   kind: "ok",
 *   data: [],
 *   value: "planned 5",
 * });
 * ```
 */
export class AnswerReader {
  readonly #requestId: string;
  readonly #shape: AnswerShape;
  readonly #data: string[] = [];

  constructor(requestId: string, shape: AnswerShape) {
    this.#requestId = requestId;
    this.#shape = shape;
  }

  /** Adds one line (without LF); returns the answer once it is complete. */
  add(line: string): Answer | undefined {
    const id = this.#requestId;
    if (line === "ERROR" && this.#data.length === 0) {
      return { kind: "unauthenticated" };
    }
    if (line === `${id} ERROR`) return { kind: "error" };
    if (line === `${id} OK`) {
      return { kind: "ok", data: this.#data, value: "" };
    }
    if (!line.startsWith(`${id} `)) {
      throw new SyntaxError(`Cannot read answer "${line}": not for ${id}`);
    }
    const rest = line.slice(id.length + 1);
    if (this.#shape === "list") {
      this.#data.push(rest);
      return undefined;
    }
    if (rest.startsWith("OK ")) {
      return { kind: "ok", data: this.#data, value: rest.slice(3) };
    }
    throw new SyntaxError(`Cannot read answer "${line}": no OK or ERROR`);
  }
}

/**
 * Reads GET's `<status> <ns>` (after `OK `); throws `SyntaxError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJobState } from "./answer_parse.ts";
 *
 * assert.deepEqual(parseJobState("planned 5"), { status: "planned", executionNs: 5n });
 * ```
 */
export function parseJobState(
  text: string,
): { status: JobStatus; executionNs: bigint } {
  const fields = text.split(" ");
  if (fields.length !== 2) throw unreadable("job state", text);
  return {
    status: status(fields[0]!, text),
    executionNs: integer(fields[1]!, text),
  };
}

/**
 * Reads a QUERY line `<job> <status> <ns>`; the id is what comes before
 * the last two fields, so it may hold spaces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJobLine } from "./answer_parse.ts";
 *
 * assert.deepEqual(parseJobLine("a b planned 5"), {
 *   id: "a b",
 *   status: "planned",
 *   executionNs: 5n,
 * });
 * ```
 */
export function parseJobLine(text: string): Job {
  const fields = text.split(" ");
  if (fields.length < 3) throw unreadable("job line", text);
  const id = fields.slice(0, -2).join(" ");
  return {
    id,
    ...parseJobState(fields.slice(-2).join(" ")),
  };
}

/** Reads a STAT line `<key> <value>`; the value is the raw text. */
export function parseStatLine(text: string): [key: string, value: string] {
  const space = text.indexOf(" ");
  if (space <= 0) throw unreadable("STAT line", text);
  return [text.slice(0, space), text.slice(space + 1)];
}

/** A LISTRULES line read back: options as given, runner values as tokens. */
export interface RuleLine {
  readonly id: string;
  readonly pattern: string;
  /** `key=value` options between the pattern and the runner type. */
  readonly options: readonly (readonly [key: string, value: string])[];
  readonly runner: string;
  readonly args: readonly string[];
}

/**
 * How many runner values a type has, the last one taking the rest of the
 * line (values are shown raw, so a space inside the last one survives);
 * `undefined` for `direct` and `awf`, whose values are split at spaces.
 */
const FIXED_ARGS: Readonly<Record<string, number>> = {
  shell: 1,
  http: 2,
  amqp: 3,
  redis: 3,
};

/**
 * Reads a LISTRULES line `<rule> <pattern> [<key>=<value>…] <runner>
 * <values…>` (protocol.md §6). Values are shown raw, so this is a best
 * reading: a rule id or pattern with a space, or a space inside a direct
 * argument or an awf input, cannot be told from a separator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRuleLine } from "./answer_parse.ts";
 *
 * assert.deepEqual(
 *   parseRuleLine("rule.cache cache. retries=3 shell find /var/cache -delete"),
 *   {
 *     id: "rule.cache",
 *     pattern: "cache.",
 *     options: [["retries", "3"]],
 *     runner: "shell",
 *     args: ["find /var/cache -delete"],
 *   },
 * );
 * ```
 */
export function parseRuleLine(text: string): RuleLine {
  const fields = text.split(" ");
  const [id, pattern] = fields;
  if (id === undefined || id === "" || pattern === undefined) {
    throw unreadable("rule line", text);
  }
  let i = 2;
  const options: [string, string][] = [];
  for (; i < fields.length && fields[i]!.includes("="); i++) {
    const field = fields[i]!;
    const equals = field.indexOf("=");
    options.push([field.slice(0, equals), field.slice(equals + 1)]);
  }
  const runner = fields[i];
  if (runner === undefined || runner === "") {
    throw unreadable("rule line", text);
  }
  return {
    id,
    pattern,
    options,
    runner,
    args: runnerValues(runner, fields.slice(i + 1)),
  };
}

function runnerValues(runner: string, fields: string[]): string[] {
  const fixed = FIXED_ARGS[runner];
  if (fixed !== undefined) {
    if (fields.length <= fixed) return fields;
    return [...fields.slice(0, fixed - 1), fields.slice(fixed - 1).join(" ")];
  }
  if (runner !== "awf") return fields;
  // `<workflow> --input <value> …`: a value runs to the next `--input`.
  const [workflow, ...rest] = fields;
  const args = workflow === undefined ? [] : [workflow];
  for (const field of rest) {
    if (field === "--input" || args.length < 2 || args.at(-1) === "--input") {
      args.push(field);
    } else {
      args[args.length - 1] += ` ${field}`;
    }
  }
  return args;
}

/** A HISTORY line read back (extensions.md §3). */
export interface RunLine {
  readonly attempt: number;
  readonly startedNs: bigint;
  readonly endedNs: bigint;
  readonly outcome: string;
  /** Empty for a job no rule matched. */
  readonly rule: string;
  readonly detail: string;
}

/**
 * Reads a HISTORY line `<attempt> <started> <ended> <outcome> <rule>
 * <detail>`; the rule id is what lies between the outcome and the detail,
 * so it may be empty or hold spaces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRunLine } from "./answer_parse.ts";
 *
 * assert.deepEqual(parseRunLine("1 10 20 failed  no-rule"), {
 *   attempt: 1,
 *   startedNs: 10n,
 *   endedNs: 20n,
 *   outcome: "failed",
 *   rule: "",
 *   detail: "no-rule",
 * });
 * ```
 */
export function parseRunLine(text: string): RunLine {
  const fields = text.split(" ");
  if (fields.length < 6) throw unreadable("HISTORY line", text);
  const attempt = Number(integer(fields[0]!, text));
  return {
    attempt,
    startedNs: integer(fields[1]!, text),
    endedNs: integer(fields[2]!, text),
    outcome: fields[3]!,
    rule: fields.slice(4, -1).join(" "),
    detail: fields.at(-1)!,
  };
}

function status(text: string, line: string): JobStatus {
  if (!isJobStatus(text)) throw unreadable("job status", line);
  return text;
}

function integer(text: string, line: string): bigint {
  if (!/^-?[0-9]+$/.test(text)) throw unreadable("integer", line);
  return BigInt(text);
}

function unreadable(what: string, text: string): SyntaxError {
  return new SyntaxError(`Cannot read ${what} "${text}"`);
}
