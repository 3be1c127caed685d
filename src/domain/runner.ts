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

/** How one runner type reads its RULE SET tokens and writes them back. */
interface RunnerShape<K extends RunnerKind> {
  /** Its fields after `kind`, in the order the spec's JSON lists them. */
  readonly fields: readonly (keyof Extract<Runner, { kind: K }>)[];
  /** Builds the runner from its argument tokens; throws `SyntaxError`. */
  parse(args: readonly string[]): Extract<Runner, { kind: K }>;
  /** The argument tokens, in RULE SET order: the inverse of `parse`. */
  args(runner: Extract<Runner, { kind: K }>): string[];
}

/**
 * Every runner type's grammar in one table (spec: protocol.md §6), with
 * its fields in the order of the spec's JSON (persistence.md §10).
 */
const SHAPES: { readonly [K in RunnerKind]: RunnerShape<K> } = {
  shell: {
    fields: ["command"],
    parse(args) {
      expectCount("shell", args, 1);
      return { kind: "shell", command: nonEmpty("shell", "command", args[0]) };
    },
    args: (runner) => [runner.command],
  },
  direct: {
    fields: ["executable", "args"],
    parse([executable, ...rest]) {
      return {
        kind: "direct",
        executable: nonEmpty("direct", "executable", executable),
        args: rest,
      };
    },
    args: (runner) => [runner.executable, ...runner.args],
  },
  http: {
    fields: ["method", "url"],
    parse(args) {
      expectCount("http", args, 2);
      const [method = "", url = ""] = args;
      if (!HTTP_METHODS.includes(method)) {
        throw new SyntaxError(`http method "${method}" is not supported`);
      }
      if (!url.startsWith("http://") && !url.startsWith("https://")) {
        throw new SyntaxError("http url must start with http:// or https://");
      }
      return { kind: "http", method: method as HttpMethod, url };
    },
    args: (runner) => [runner.method, runner.url],
  },
  awf: {
    fields: ["workflow", "inputs"],
    parse([workflow, ...rest]) {
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
        workflow: nonEmpty("awf", "workflow", workflow),
        inputs,
      };
    },
    args: (runner) => [
      runner.workflow,
      ...runner.inputs.flatMap((v) => ["--input", v]),
    ],
  },
  amqp: {
    fields: ["dsn", "exchange", "routingKey"],
    parse(args) {
      expectCount("amqp", args, 3);
      const [dsn = "", exchange = "", routingKey = ""] = args;
      return { kind: "amqp", dsn, exchange, routingKey };
    },
    args: (runner) => [runner.dsn, runner.exchange, runner.routingKey],
  },
  redis: {
    fields: ["url", "command", "key"],
    parse(args) {
      expectCount("redis", args, 3);
      const [url = "", command = "", key = ""] = args;
      if (!url.startsWith("redis://")) {
        throw new SyntaxError("redis url must start with redis://");
      }
      if (!REDIS_COMMANDS.includes(command)) {
        throw new SyntaxError(`redis command "${command}" is not supported`);
      }
      return { kind: "redis", url, command: command as RedisCommand, key };
    },
    args: (runner) => [runner.url, runner.command, runner.key],
  },
};

/** Tells whether a string names a runner type. */
export function isRunnerKind(type: string): type is RunnerKind {
  return Object.hasOwn(SHAPES, type);
}

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
  if (!isRunnerKind(type)) {
    throw new SyntaxError(`unknown runner type "${type}"`);
  }
  return (SHAPES[type] as RunnerShape<RunnerKind>).parse(args);
}

/**
 * Lists a runner's values as tokens after its type, in RULE SET order; the
 * inverse of {@link parseRunner}.
 */
export function runnerArgs(runner: Runner): string[] {
  return (SHAPES[runner.kind] as RunnerShape<RunnerKind>).args(runner);
}

/**
 * A runner's fields after its type, in the spec's order, for renderers
 * (JSON: persistence.md §10).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runnerFields } from "./runner.ts";
 *
 * assert.deepEqual(
 *   runnerFields({ kind: "http", url: "http://h/", method: "POST" }),
 *   [["method", "POST"], ["url", "http://h/"]],
 * );
 * ```
 */
export function runnerFields(
  runner: Runner,
): [name: string, value: string | readonly string[]][] {
  const shape = SHAPES[runner.kind] as RunnerShape<RunnerKind>;
  const values = runner as unknown as Record<string, string | string[]>;
  return shape.fields.map((name) => [String(name), values[String(name)]!]);
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
