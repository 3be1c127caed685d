/**
 * The command line: `ztick [server] [-c PATH]`, `ztick dump LOGFILE …`,
 * the client commands, `--version`, `--help` (spec: configuration.md §1).
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  CLIENT_WORDS,
  type ClientInvocation,
  clientUsage,
  parseClientArgs,
} from "../client/args.ts";

/** What one run of `ztick` is asked to do. */
export type Invocation =
  | { kind: "server"; configPath: string | undefined }
  | {
    kind: "dump";
    logfile: string;
    format: "text" | "json";
    compact: boolean;
    follow: boolean;
    /** Runs kept per job by `--compact` (extensions.md §5). */
    history: number;
  }
  /** `ztick import LOGFILE --postgres URL` (cluster.md §6). */
  | { kind: "import"; logfile: string; postgres: string }
  /** `ztick export --postgres URL` (cluster.md §6). */
  | { kind: "export"; postgres: string }
  | ClientInvocation
  | { kind: "version" }
  /** `text`: a client command's own usage instead of {@link USAGE}. */
  | { kind: "help"; text?: string }
  /**
   * Exit 2: stderr gets `error: <problem>`, then a usage line (`usage`,
   * else the first line of {@link USAGE}).
   */
  | { kind: "usage"; problem: string; usage?: string };

/**
 * The usage text `--help` prints. Its first line is a one-line synopsis,
 * suitable to follow a usage error.
 */
export const USAGE =
  `usage: ztick [server] [-c PATH] | ztick dump LOGFILE [OPTIONS] | ztick COMMAND [ARGS] | ztick --help

  ztick [-c PATH | --config PATH]          run the daemon
  ztick server [-c PATH | --config PATH]   same, explicit
  ztick dump LOGFILE [--format text|json] [--compact] [--follow] [--history N]
                                           print a logfile's records
  ztick import LOGFILE --postgres URL      load a logfile into an empty database
  ztick export --postgres URL              print a database's state as records
  ztick --version | -v                     print the version and exit
  ztick --help | -h                        print this help and exit

Without -c the daemon uses the built-in defaults and reads no file.

client commands (one request to a running daemon):
  ztick set <job> <when> [--tz ZONE]       SET; <when>: 2026-04-01T02:00:00Z,
                                           "2026-04-01 02:00" (local), +2h30m,
                                           now, @<seconds>, @<ms>ms, <ns>
  ztick cron <job> <expression> [--tz ZONE] [--catchup skip|once|all]
  ztick get <job>                          status, nanoseconds, UTC time
  ztick query [<prefix>]
  ztick rm <job>
  ztick history <job>
  ztick rule set <rule> <pattern> [<key>=<value> ...] <runner> <args...>
  ztick rule rm <rule>
  ztick rule ls
  ztick stat

client options (anywhere after the command; after --, all is positional):
  --addr HOST:PORT     the daemon ($ZTICK_ADDR, else 127.0.0.1:5678)
  --token-file PATH    send AUTH with the file's first line
                       (else $ZTICK_TOKEN_FILE, else the secret $ZTICK_TOKEN)
  --tls [--ca PATH]    connect with TLS, trusting PATH or the system roots
  --json               print JSON (exact integers)
  --timeout DURATION   give up after this long (default 10s)
exit codes: 0 OK, 1 ERROR answer, 2 usage error, 3 connection, TLS,
AUTH or timeout

dump options:
  --format text|json   canonical protocol lines (default) or NDJSON
  --compact            only the live jobs and rules, then their last runs
  --history N          runs kept per job by --compact, 0-1000 (default 10)
  --follow             keep printing records as they are appended
`;

interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
}

const SERVER_OPTIONS = {
  config: { type: "string", short: "c" },
  help: { type: "boolean", short: "h" },
} as const satisfies Record<string, OptionSpec>;

const TRANSFER_OPTIONS = {
  postgres: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Record<string, OptionSpec>;

const DUMP_OPTIONS = {
  format: { type: "string" },
  compact: { type: "boolean" },
  follow: { type: "boolean" },
  history: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Record<string, OptionSpec>;

/**
 * Parses the arguments after the program name. Never throws: a usage error
 * is returned as `{ kind: "usage", problem }` (exit code 2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommandLine } from "./cli.ts";
 *
 * assert.deepEqual(parseCommandLine(["-c", "/etc/ztick.toml"]), {
 *   kind: "server",
 *   configPath: "/etc/ztick.toml",
 * });
 * assert.deepEqual(parseCommandLine(["dump", "--format=json", "logfile"]), {
 *   kind: "dump",
 *   logfile: "logfile",
 *   format: "json",
 *   compact: false,
 *   follow: false,
 *   history: 10,
 * });
 * assert.deepEqual(parseCommandLine(["--foo"]), {
 *   kind: "usage",
 *   problem: 'unknown option "--foo"',
 * });
 * ```
 */
export function parseCommandLine(argv: string[]): Invocation {
  const [first, ...rest] = argv;
  switch (first) {
    case "--version":
    case "-v":
      return { kind: "version" };
    case "--help":
    case "-h":
      return { kind: "help" };
    case "server":
      return parseServer(rest);
    case "dump":
      return parseDump(rest);
    case "import":
    case "export":
      return parseTransfer(first, rest);
    default:
      if (first !== undefined && CLIENT_WORDS.includes(first)) {
        return parseClient(argv);
      }
      return parseServer(argv);
  }
}

function parseClient(argv: string[]): Invocation {
  const parsed = parseClientArgs(argv);
  if (parsed.kind !== "help") return parsed;
  return {
    kind: "help",
    text: `${clientUsage(parsed.command)}\n\n${
      USAGE.slice(USAGE.indexOf("client commands"))
    }`,
  };
}

function parseServer(args: string[]): Invocation {
  const parsed = readOptions(args, SERVER_OPTIONS);
  if (parsed.kind === "usage") return parsed;
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  if (positionals[0] !== undefined) return unexpected(positionals[0]);
  return { kind: "server", configPath: values.config };
}

function parseTransfer(
  kind: "import" | "export",
  args: string[],
): Invocation {
  const parsed = readOptions(args, TRANSFER_OPTIONS);
  if (parsed.kind === "usage") return parsed;
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  const [first, second] = positionals;
  const surplus = kind === "import" ? second : first;
  if (surplus !== undefined) return unexpected(surplus);
  if (kind === "import" && first === undefined) {
    return usage("import needs a LOGFILE");
  }
  const postgres = values.postgres;
  if (postgres === undefined) return usage(`${kind} needs --postgres URL`);
  return kind === "import"
    ? { kind, logfile: first!, postgres }
    : { kind, postgres };
}

function parseDump(args: string[]): Invocation {
  const parsed = readOptions(args, DUMP_OPTIONS);
  if (parsed.kind === "usage") return parsed;
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  const [logfile, surplus] = positionals;
  if (surplus !== undefined) return unexpected(surplus);
  const format = values.format ?? "text";
  if (format !== "text" && format !== "json") {
    return usage(`unknown format "${format}" (text or json)`);
  }
  if (logfile === undefined) return usage("dump needs a LOGFILE");
  const history = values.history ?? "10";
  if (!/^[0-9]{1,4}$/.test(history) || Number(history) > 1000) {
    return usage(`invalid --history "${history}" (0-1000)`);
  }
  return {
    kind: "dump",
    logfile,
    format,
    compact: values.compact ?? false,
    follow: values.follow ?? false,
    history: Number(history),
  };
}

type Values<T extends Record<string, OptionSpec>> = {
  [K in keyof T]?: T[K]["type"] extends "string" ? string : boolean;
};

/**
 * Reads options and positionals strictly: unknown options, a missing or
 * empty value and a value given to a flag are usage errors; a repeated
 * option keeps its last value.
 */
function readOptions<T extends Record<string, OptionSpec>>(
  args: string[],
  options: T,
):
  | { kind: "options"; values: Values<T>; positionals: string[] }
  | { kind: "usage"; problem: string } {
  // Tokens rather than `strict: true`, whose errors are prose for humans.
  const { tokens } = parseArgs({
    args,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === "option-terminator") continue;
    const spec = Object.hasOwn(options, token.name)
      ? options[token.name]
      : undefined;
    if (spec === undefined) {
      return usage(`unknown option "${token.rawName}"`);
    }
    if (spec.type === "boolean") {
      if (token.value !== undefined) {
        return usage(`option "${token.rawName}" takes no value`);
      }
      values[token.name] = true;
    } else {
      // `--config --other` would take `--other` as the path: refuse, as
      // `strict: true` does; `--config=-x` still works.
      const value = token.value;
      if (
        value === undefined || value === "" ||
        (!token.inlineValue && value.startsWith("-"))
      ) {
        return usage(`option "${token.rawName}" needs a value`);
      }
      values[token.name] = value;
    }
  }
  return { kind: "options", values: values as Values<T>, positionals };
}

function unexpected(argument: string): Invocation {
  return usage(`unexpected argument "${argument}"`);
}

function usage(problem: string): { kind: "usage"; problem: string } {
  return { kind: "usage", problem };
}
