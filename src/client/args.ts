/**
 * The client commands' arguments: `ztick set|cron|get|query|rm|history|rule
 * set|rule rm|rule ls|stat …` and their options, anywhere after the command
 * (spec: client.md §1). Pure: nothing is read or connected here.
 *
 * @module
 */

/** The client commands, as typed after `ztick`. */
export type ClientCommand =
  | "set"
  | "cron"
  | "get"
  | "query"
  | "rm"
  | "history"
  | "rule set"
  | "rule rm"
  | "rule ls"
  | "stat";

/** What `--catchup` may say (spec: extensions.md §4). */
export type Catchup = "skip" | "once" | "all";

/** The options of one client command, defaults not yet resolved. */
export interface ClientOptions {
  /** `--addr`; unset means `$ZTICK_ADDR`, else `127.0.0.1:5678`. */
  readonly addr?: string;
  /** `--token-file`; unset means `$ZTICK_TOKEN_FILE`, else `$ZTICK_TOKEN`. */
  readonly tokenFile?: string;
  readonly tls: boolean;
  readonly ca?: string;
  readonly json: boolean;
  readonly timeoutMs: number;
  /** `set` and `cron` only. */
  readonly tz?: string;
  /** `cron` only. */
  readonly catchup?: Catchup;
}

/** A client command ready to run. */
export interface ClientInvocation {
  readonly kind: "client";
  readonly command: ClientCommand;
  /** The positional arguments after the command name. */
  readonly args: readonly string[];
  readonly options: ClientOptions;
}

/** What the arguments of a client command ask for. */
export type ClientArgs =
  | ClientInvocation
  /** `--help` or `-h`: print the usage of `command`. */
  | { readonly kind: "help"; readonly command: ClientCommand }
  /** Exit 2: `error: <problem>`, then `usage` (spec: client.md §3). */
  | {
    readonly kind: "usage";
    readonly problem: string;
    readonly usage: string;
  };

/** The default of `--timeout`. */
export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 4_294_967_295_000;
const DURATION = /^([0-9]+)(ms|s|m|h|d)?$/;
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

interface CommandShape {
  /** The arguments after the command name, as `usage:` shows them. */
  readonly synopsis: string;
  /** The required arguments, for `<command> needs …`. */
  readonly needs?: string;
  readonly min: number;
  readonly max: number;
  /** Options of this command beyond the common ones. */
  readonly own?: readonly ("tz" | "catchup")[];
}

const COMMON = "[--addr HOST:PORT] [--token-file PATH] [--tls [--ca PATH]] " +
  "[--json] [--timeout DURATION]";

const SHAPES: Readonly<Record<ClientCommand, CommandShape>> = {
  set: {
    synopsis: "<job> <when> [--tz ZONE]",
    needs: "<job> <when>",
    min: 2,
    max: 3,
    own: ["tz"],
  },
  cron: {
    synopsis: "<job> <expression> [--tz ZONE] [--catchup skip|once|all]",
    needs: "<job> <expression>",
    min: 2,
    max: 2,
    own: ["tz", "catchup"],
  },
  get: { synopsis: "<job>", min: 1, max: 1 },
  query: { synopsis: "[<prefix>]", min: 0, max: 1 },
  rm: { synopsis: "<job>", min: 1, max: 1 },
  history: { synopsis: "<job>", min: 1, max: 1 },
  "rule set": {
    synopsis: "<rule> <pattern> [<key>=<value> ...] <runner> <args...>",
    needs: "<rule> <pattern> <runner>",
    min: 3,
    max: Infinity,
  },
  "rule rm": { synopsis: "<rule>", min: 1, max: 1 },
  "rule ls": { synopsis: "", min: 0, max: 0 },
  stat: { synopsis: "", min: 0, max: 0 },
};

/** The words after `ztick` that start a client command. */
export const CLIENT_WORDS: readonly string[] = [
  "set",
  "cron",
  "get",
  "query",
  "rm",
  "history",
  "rule",
  "stat",
];

/** The usage line of a client command (or of them all). */
export function clientUsage(command?: ClientCommand): string {
  if (command === undefined) {
    return "usage: ztick set|cron|get|query|rm|history|rule set|rule rm|rule ls|stat [ARGS] " +
      COMMON;
  }
  const { synopsis } = SHAPES[command];
  return `usage: ztick ${command}${synopsis ? ` ${synopsis}` : ""} ${COMMON}`;
}

/**
 * Parses a client command line (`argv` starts with the command word).
 * Options may stand anywhere; after `--`, and in `rule set` from the runner
 * type on, every argument is positional. Never throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseClientArgs } from "./args.ts";
 *
 * const parsed = parseClientArgs(["rule", "set", "r", "p.", "--json", "direct", "/bin/ls", "-l"]);
 * assert.equal(parsed.kind, "client");
 * if (parsed.kind === "client") {
 *   assert.deepEqual(parsed.args, ["r", "p.", "direct", "/bin/ls", "-l"]);
 *   assert.equal(parsed.options.json, true);
 * }
 * ```
 */
export function parseClientArgs(argv: readonly string[]): ClientArgs {
  const named = commandOf(argv);
  if (named.kind === "usage") return named;
  const { command, rest } = named;
  const shape = SHAPES[command];
  const read = readArguments(command, rest);
  if (read.kind !== "read") {
    return read.kind === "help"
      ? { kind: "help", command }
      : usageOf(command, read.problem);
  }
  const { args, values } = read;
  for (const name of ["tz", "catchup"] as const) {
    if (values[name] !== undefined && !shape.own?.includes(name)) {
      return usageOf(command, `unknown option "--${name}"`);
    }
  }
  if (args.length < shape.min) {
    return usageOf(
      command,
      `${command} needs ${shape.needs ?? shape.synopsis}`,
    );
  }
  if (args.length > shape.max) {
    return usageOf(command, `unexpected argument "${args[shape.max]}"`);
  }
  const options = checkOptions(values);
  if (typeof options === "string") return usageOf(command, options);
  return { kind: "client", command, args, options };
}

function commandOf(
  argv: readonly string[],
):
  | { kind: "command"; command: ClientCommand; rest: readonly string[] }
  | { kind: "usage"; problem: string; usage: string } {
  const [word, sub] = argv;
  if (word === "rule") {
    const command = `rule ${sub}`;
    if (sub === undefined || !Object.hasOwn(SHAPES, command)) {
      return {
        kind: "usage",
        problem: sub === undefined
          ? "rule needs set, rm or ls"
          : `unknown rule command "${sub}" (set, rm or ls)`,
        usage: clientUsage(),
      };
    }
    return {
      kind: "command",
      command: command as ClientCommand,
      rest: argv.slice(2),
    };
  }
  if (word === undefined || word === "rule" || !Object.hasOwn(SHAPES, word)) {
    return {
      kind: "usage",
      problem: `unknown command "${word}"`,
      usage: clientUsage(),
    };
  }
  return {
    kind: "command",
    command: word as ClientCommand,
    rest: argv.slice(1),
  };
}

type Values = Partial<Record<OptionName, string | true>>;
type OptionName =
  | "addr"
  | "token-file"
  | "tls"
  | "ca"
  | "json"
  | "timeout"
  | "tz"
  | "catchup"
  | "help";
const FLAGS: ReadonlySet<string> = new Set(["tls", "json", "help"]);
const VALUED: ReadonlySet<string> = new Set([
  "addr",
  "token-file",
  "ca",
  "timeout",
  "tz",
  "catchup",
]);

/** Splits options from positionals; repeated options keep the last value. */
function readArguments(
  command: ClientCommand,
  argv: readonly string[],
):
  | { kind: "read"; args: string[]; values: Values }
  | { kind: "help" }
  | { kind: "usage"; problem: string } {
  const args: string[] = [];
  const values: Values = {};
  let positionalOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (positionalOnly || !arg.startsWith("-") || arg === "-") {
      args.push(arg);
      // `rule set r p. [k=v …] <runner> …`: the runner type ends the options.
      if (command === "rule set" && args.length > 2 && !arg.includes("=")) {
        positionalOnly = true;
      }
      continue;
    }
    if (arg === "--") {
      positionalOnly = true;
      continue;
    }
    if (arg === "-h") return { kind: "help" };
    const equals = arg.indexOf("=");
    const name = arg.slice(2, equals === -1 ? undefined : equals);
    if (!arg.startsWith("--") || (!FLAGS.has(name) && !VALUED.has(name))) {
      return { kind: "usage", problem: unknownOption(arg) };
    }
    if (FLAGS.has(name)) {
      if (equals !== -1) {
        return { kind: "usage", problem: `option "--${name}" takes no value` };
      }
      if (name === "help") return { kind: "help" };
      values[name as OptionName] = true;
      continue;
    }
    const value = equals === -1 ? argv[++i] : arg.slice(equals + 1);
    if (
      value === undefined || value === "" ||
      (equals === -1 && value.startsWith("-"))
    ) {
      return { kind: "usage", problem: `option "--${name}" needs a value` };
    }
    values[name as OptionName] = value;
  }
  return { kind: "read", args, values };
}

function unknownOption(arg: string): string {
  const equals = arg.indexOf("=", 2);
  const hint = /^-[0-9]/.test(arg) ? " (put -- before a negative number)" : "";
  return `unknown option "${
    equals === -1 ? arg : arg.slice(0, equals)
  }"${hint}`;
}

/** Checks option values; returns the problem as a string. */
function checkOptions(values: Values): ClientOptions | string {
  const text = (name: OptionName) => {
    const value = values[name];
    return typeof value === "string" ? value : undefined;
  };
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  const timeout = text("timeout");
  if (timeout !== undefined) {
    const parsed = parseTimeout(timeout);
    if (parsed === undefined) {
      return `invalid --timeout "${timeout}" (a duration such as 500ms, 10s, 2m)`;
    }
    timeoutMs = parsed;
  }
  const catchup = text("catchup");
  if (catchup !== undefined && !["skip", "once", "all"].includes(catchup)) {
    return `invalid --catchup "${catchup}" (skip, once or all)`;
  }
  const tls = values.tls === true;
  const ca = text("ca");
  if (ca !== undefined && !tls) return 'option "--ca" needs --tls';
  const addr = text("addr");
  const tokenFile = text("token-file");
  const tz = text("tz");
  return {
    tls,
    json: values.json === true,
    timeoutMs,
    ...(addr !== undefined ? { addr } : {}),
    ...(tokenFile !== undefined ? { tokenFile } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(tz !== undefined ? { tz } : {}),
    ...(catchup !== undefined ? { catchup: catchup as Catchup } : {}),
  };
}

/**
 * Reads a `--timeout`: digits with `ms`, `s`, `m`, `h` or `d` (bare digits
 * are seconds), above zero; `undefined` when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTimeout } from "./args.ts";
 *
 * assert.equal(parseTimeout("1500ms"), 1500);
 * assert.equal(parseTimeout("2"), 2000);
 * assert.equal(parseTimeout("0s"), undefined);
 * ```
 */
export function parseTimeout(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] ?? "s"]!;
  return ms > 0 && ms <= MAX_TIMEOUT_MS ? ms : undefined;
}

function usageOf(command: ClientCommand, problem: string): ClientArgs {
  return { kind: "usage", problem, usage: clientUsage(command) };
}
