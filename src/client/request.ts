/**
 * The protocol request a client command sends: its instruction and
 * arguments, each one token quoted as needed (spec: client.md §1, §2).
 * Pure: the time and zone come in a {@link WhenContext}.
 *
 * @module
 */
import type { AnswerShape } from "../protocol/answer_parse.ts";
import { hasForbiddenCharacter, quoteToken } from "../protocol/tokens.ts";
import type { ClientInvocation } from "./args.ts";
import { checkTimeZone, parseWhen, type WhenContext } from "./when.ts";

/** A request line without its request id, and the shape of its answer. */
export interface RequestLine {
  readonly line: string;
  readonly shape: AnswerShape;
}

/**
 * Builds the request of a client command. Throws `SyntaxError` (a usage
 * error) for an invalid `<when>` or `--tz`, or an argument no protocol
 * token can carry (a line break or another control character).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestLine } from "./request.ts";
 *
 * const options = { tls: false, json: false, timeoutMs: 10_000 };
 * const context = { nowNs: 0n, timeZone: () => "UTC" };
 * assert.deepEqual(
 *   requestLine({ kind: "client", command: "set", args: ["b.1", "2026-04-01", "02:00:00"], options }, context),
 *   { line: "SET b.1 1775008800000000000", shape: "line" },
 * );
 * assert.deepEqual(
 *   requestLine({ kind: "client", command: "rule set", args: ["r", "p.", "shell", "echo hi"], options }, context),
 *   { line: 'RULE SET r p. shell "echo hi"', shape: "line" },
 * );
 * ```
 */
export function requestLine(
  invocation: ClientInvocation,
  context: WhenContext,
): RequestLine {
  const { command, args, options } = invocation;
  for (const arg of args) {
    if (arg.includes("\n") || hasForbiddenCharacter(arg)) {
      throw new SyntaxError(
        `Cannot send argument ${
          JSON.stringify(arg)
        }: control characters cannot be sent`,
      );
    }
  }
  const [first = "", second] = args;
  switch (command) {
    case "set": {
      const when = args.slice(1).join(" ");
      const zone = options.tz === undefined ? context : {
        ...context,
        timeZone: () => checkTimeZone(options.tz!),
      };
      return line("line", "SET", first, String(parseWhen(when, zone)));
    }
    case "cron":
      return line(
        "line",
        "CRON",
        first,
        second!,
        ...(options.tz !== undefined ? [`tz=${options.tz}`] : []),
        ...(options.catchup !== undefined
          ? [`catchup=${options.catchup}`]
          : []),
      );
    case "get":
      return line("line", "GET", first);
    case "query":
      return line("list", "QUERY", ...args);
    case "rm":
      return line("line", "REMOVE", first);
    case "history":
      return line("list", "HISTORY", first);
    case "rule set":
      return line("line", "RULE", "SET", ...args);
    case "rule rm":
      return line("line", "REMOVERULE", first);
    case "rule ls":
      return line("list", "LISTRULES");
    case "stat":
      return line("list", "STAT");
  }
}

function line(
  shape: AnswerShape,
  instruction: string,
  ...args: string[]
): RequestLine {
  return { line: [instruction, ...args.map(quoteToken)].join(" "), shape };
}
