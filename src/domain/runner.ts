/** What a rule does when a matching job becomes due (spec: runners.md). */
export type Runner =
  | { readonly kind: "shell"; readonly command: string }
  | {
    readonly kind: "direct";
    readonly executable: string;
    readonly args: readonly string[];
  }
  | { readonly kind: "http"; readonly method: HttpMethod; readonly url: string }
  | {
    readonly kind: "awf";
    readonly workflow: string;
    readonly inputs: readonly string[];
  }
  | {
    readonly kind: "amqp";
    readonly dsn: string;
    readonly exchange: string;
    readonly routingKey: string;
  }
  | {
    readonly kind: "redis";
    readonly url: string;
    readonly command: RedisCommand;
    readonly key: string;
  };

/** The runner types, as written on the wire. */
export type RunnerKind = Runner["kind"];

/** Methods the http runner may use. */
export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";
const HTTP_METHODS: readonly string[] = ["GET", "POST", "PUT", "DELETE"];

/** Commands the redis runner may send. */
export type RedisCommand = "PUBLISH" | "RPUSH" | "LPUSH" | "SET";
const REDIS_COMMANDS: readonly string[] = ["PUBLISH", "RPUSH", "LPUSH", "SET"];

/**
 * Builds a runner from its type and argument tokens, checking what RULE SET
 * checks; throws `SyntaxError` naming the problem (spec: protocol.md §6).
 *
 * @example Direct runner arguments stay literal
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRunner } from "./runner.ts";
 *
 * assert.deepEqual(parseRunner("direct", ["/usr/bin/ping", "-c", "1"]), {
 *   kind: "direct",
 *   executable: "/usr/bin/ping",
 *   args: ["-c", "1"],
 * });
 * ```
 */
export function parseRunner(type: string, args: readonly string[]): Runner {
  switch (type) {
    case "shell": {
      expectCount(type, args, 1);
      return { kind: "shell", command: nonEmpty(type, "command", args[0]) };
    }
    case "direct": {
      const [executable, ...rest] = args;
      return {
        kind: "direct",
        executable: nonEmpty(type, "executable", executable),
        args: rest,
      };
    }
    case "http": {
      expectCount(type, args, 2);
      const [method = "", url = ""] = args;
      if (!HTTP_METHODS.includes(method)) {
        throw new SyntaxError(`http method "${method}" is not supported`);
      }
      if (!url.startsWith("http://") && !url.startsWith("https://")) {
        throw new SyntaxError("http url must start with http:// or https://");
      }
      return { kind: "http", method: method as HttpMethod, url };
    }
    case "awf": {
      const [workflow, ...rest] = args;
      const inputs: string[] = [];
      for (let i = 0; i < rest.length; i += 2) {
        const value = rest[i + 1];
        if (rest[i] !== "--input" || value === undefined) {
          throw new SyntaxError("awf inputs must be --input <value> pairs");
        }
        inputs.push(value);
      }
      return {
        kind: "awf",
        workflow: nonEmpty(type, "workflow", workflow),
        inputs,
      };
    }
    case "amqp": {
      expectCount(type, args, 3);
      const [dsn = "", exchange = "", routingKey = ""] = args;
      return { kind: "amqp", dsn, exchange, routingKey };
    }
    case "redis": {
      expectCount(type, args, 3);
      const [url = "", command = "", key = ""] = args;
      if (!url.startsWith("redis://")) {
        throw new SyntaxError("redis url must start with redis://");
      }
      if (!REDIS_COMMANDS.includes(command)) {
        throw new SyntaxError(`redis command "${command}" is not supported`);
      }
      return { kind: "redis", url, command: command as RedisCommand, key };
    }
    default:
      throw new SyntaxError(`unknown runner type "${type}"`);
  }
}

/**
 * Lists a runner's values as tokens after its type, in RULE SET order; the
 * inverse of {@link parseRunner}.
 */
export function runnerArgs(runner: Runner): string[] {
  switch (runner.kind) {
    case "shell":
      return [runner.command];
    case "direct":
      return [runner.executable, ...runner.args];
    case "http":
      return [runner.method, runner.url];
    case "awf":
      return [runner.workflow, ...runner.inputs.flatMap((v) => ["--input", v])];
    case "amqp":
      return [runner.dsn, runner.exchange, runner.routingKey];
    case "redis":
      return [runner.url, runner.command, runner.key];
  }
}

function expectCount(type: string, args: readonly string[], count: number) {
  if (args.length !== count) {
    throw new SyntaxError(
      `${type} runner takes ${count} argument(s), got ${args.length}`,
    );
  }
}

function nonEmpty(type: string, what: string, value: string | undefined) {
  if (!value) throw new SyntaxError(`${type} runner needs a non-empty ${what}`);
  return value;
}
