/**
 * The TOML configuration file: keys, defaults, types, ranges and the exact
 * startup error messages (spec: configuration.md §2, §3).
 *
 * @module
 */
import { decodeToml, isTable, parseToml } from "./_toml.ts";
import { ConfigError } from "./config_error.ts";
import type { ListenAddress } from "./listen_address.ts";
import { Value } from "./_value.ts";
import type { LevelName, LogFormat } from "../log.ts";
import { fsReason } from "../errors.ts";
import { checkPostgresUrl, CLUSTER_SECTION } from "./_cluster.ts";

/** The daemon's configuration, every key resolved to its value or default. */
export interface Config {
  /** The `-c` path; `undefined` for the built-in defaults. */
  readonly path: string | undefined;
  readonly log: { readonly level: LevelName; readonly format: LogFormat };
  readonly controller: {
    readonly listen: ListenAddress;
    readonly authFile?: string;
    readonly tlsCert?: string;
    readonly tlsKey?: string;
    readonly maxConnections?: number;
  };
  readonly shell: { readonly path: string; readonly args: readonly string[] };
  readonly database: {
    readonly persistence: "logfile" | "memory" | "postgres";
    /** `[database] postgres_url`; checked only in postgres mode. */
    readonly postgresUrl?: string;
    readonly logfilePath: string;
    readonly fsyncOnPersist: boolean;
    readonly framerate: number;
    readonly compressionIntervalS: number;
  };
  readonly telemetry: {
    readonly enabled: boolean;
    readonly endpoint?: string;
    readonly serviceName: string;
    readonly flushIntervalMs: number;
  };
  readonly http: { readonly listen?: ListenAddress };
  readonly execution: {
    readonly concurrency: number;
    readonly timeoutS: number;
    readonly onInterrupted: "rerun" | "fail";
    /** Runs kept per job (extensions.md §3). */
    readonly history: number;
    /** Finished one-shot jobs are removed after this long; 0 = never (§7). */
    readonly retentionMs: number;
  };
  /** `[cluster]`: read only in postgres mode (cluster.md §1). */
  readonly cluster: {
    /** Default (unset): `<hostname>:<protocol port>`, found at startup. */
    readonly nodeId?: string;
    readonly leaseMs: number;
  };
}

const LEVELS: readonly LevelName[] = [
  "off",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
];
const UINT32_MAX = 4294967295;

/** The built-in defaults, used without `-c` (spec: configuration.md §2). */
export const DEFAULT_CONFIG: Config = deepFreeze({
  path: undefined,
  log: { level: "info", format: "text" },
  controller: {
    listen: { hostname: "127.0.0.1", port: 5678, text: "127.0.0.1:5678" },
  },
  shell: { path: "/bin/sh", args: ["-c"] },
  database: {
    persistence: "logfile",
    logfilePath: "logfile",
    fsyncOnPersist: true,
    framerate: 512,
    compressionIntervalS: 3600,
  },
  telemetry: { enabled: false, serviceName: "ztick", flushIntervalMs: 5000 },
  http: {},
  execution: {
    concurrency: 16,
    timeoutS: 0,
    onInterrupted: "rerun",
    history: 10,
    retentionMs: 0,
  },
  cluster: { leaseMs: 5000 },
});

/**
 * Loads the configuration: the built-in defaults when `path` is undefined
 * (no file is read), the TOML file at `path` otherwise. Also checks that
 * `[shell] path` names an executable file, defaulted or not.
 *
 * @throws {ConfigError} with the spec's message (configuration.md §3).
 */
export async function loadConfig(path: string | undefined): Promise<Config> {
  let config = DEFAULT_CONFIG;
  if (path !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (error) {
      throw new ConfigError(
        `config: cannot read ${path}: ${fsReason(error)}`,
        { cause: error },
      );
    }
    config = parseConfig(decodeToml(bytes, "config"), path);
  }
  await checkShell(config.shell.path);
  return config;
}

/**
 * Parses and validates a configuration file's text; `path` is recorded in
 * the result. Pure: the shell path is checked by {@linkcode loadConfig}.
 *
 * @throws {ConfigError} with the spec's message (configuration.md §3).
 *
 * @example Omitted keys take their defaults
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./config.ts";
 *
 * const config = parseConfig('[execution]\nconcurrency = 8\n', "z.toml");
 * assert.equal(config.execution.concurrency, 8);
 * assert.equal(config.execution.timeoutS, 0);
 * assert.equal(config.controller.listen.port, 5678);
 * ```
 *
 * @example A misspelt key stops the daemon
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConfig } from "./config.ts";
 *
 * assert.throws(() => parseConfig("[database]\nfsync = true\n", "z.toml"), {
 *   name: "ConfigError",
 *   message: 'config: unknown key "fsync" in [database]',
 * });
 * ```
 */
export function parseConfig(text: string, path: string): Config {
  const document = parseToml(text, "config");
  const draft = new Draft();
  for (const [name, value] of Object.entries(document)) {
    if (!isTable(value)) {
      if (isTableArray(value)) unknownSection(`[${name}]`);
      throw new ConfigError(`config: unknown key "${name}" at top level`);
    }
    const section = SECTIONS[name as SectionName];
    if (!Object.hasOwn(SECTIONS, name) || section === undefined) {
      unknownSection(name);
    }
    for (const [key, keyValue] of Object.entries(value)) {
      const read = section[key];
      if (!Object.hasOwn(section, key) || read === undefined) {
        if (isTable(keyValue)) unknownSection(`${name}.${key}`);
        if (isTableArray(keyValue)) unknownSection(`[${name}.${key}]`);
        throw new ConfigError(`config: unknown key "${key}" in [${name}]`);
      }
      read(draft, new Value(name, key, keyValue));
    }
  }
  return draft.build(path);
}

function isTableArray(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 && value.every(isTable);
}

function unknownSection(name: string): never {
  throw new ConfigError(`config: unknown section [${name}]`);
}

async function checkShell(path: string): Promise<void> {
  let executable = false;
  try {
    const info = await Deno.stat(path);
    executable = info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
  }
  if (!executable) {
    throw new ConfigError(
      `config: [shell] path "${path}" is not an executable file`,
    );
  }
}

type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };

/** The configuration being read, starting from the defaults. */
class Draft {
  readonly config = structuredClone(DEFAULT_CONFIG) as Mutable<Config>;

  build(path: string): Config {
    const { controller, telemetry, database } = this.config;
    if (database.persistence === "postgres") checkPostgresUrl(database);
    if (
      (controller.tlsCert === undefined) !== (controller.tlsKey === undefined)
    ) {
      throw new ConfigError(
        "config: [controller] tls_cert and tls_key must be set together",
      );
    }
    if (telemetry.enabled && telemetry.endpoint === undefined) {
      throw new ConfigError(
        "config: [telemetry] endpoint is required when enabled = true",
      );
    }
    return deepFreeze({ ...this.config, path });
  }
}

type SectionName =
  | "log"
  | "controller"
  | "shell"
  | "database"
  | "telemetry"
  | "http"
  | "execution"
  | "cluster";
type Reader = (draft: Draft, value: Value) => void;

const SECTIONS: Record<SectionName, Record<string, Reader>> = {
  log: {
    level({ config }, value) {
      config.log.level = value.oneOf(
        LEVELS,
        `must be one of ${LEVELS.join(", ")}`,
      );
    },
    format({ config }, value) {
      config.log.format = value.oneOf(
        ["text", "json"],
        'must be "text" or "json"',
      );
    },
  },
  controller: {
    listen({ config }, value) {
      config.controller.listen = value.listen();
    },
    auth_file({ config }, value) {
      config.controller.authFile = value.string();
    },
    tls_cert({ config }, value) {
      config.controller.tlsCert = value.string();
    },
    tls_key({ config }, value) {
      config.controller.tlsKey = value.string();
    },
    max_connections({ config }, value) {
      config.controller.maxConnections = value.integer(1, 1_000_000);
    },
  },
  shell: {
    path({ config }, value) {
      config.shell.path = value.string();
    },
    args({ config }, value) {
      config.shell.args = value.strings();
    },
  },
  database: {
    persistence({ config }, value) {
      config.database.persistence = value.oneOf(
        ["logfile", "memory", "postgres"],
        'must be "logfile", "memory" or "postgres"',
      );
    },
    postgres_url({ config }, value) {
      config.database.postgresUrl = value.string();
    },
    logfile_path({ config }, value) {
      const path = value.string();
      if (path === "") value.fail("must not be empty");
      config.database.logfilePath = path;
    },
    fsync_on_persist({ config }, value) {
      config.database.fsyncOnPersist = value.boolean();
    },
    framerate({ config }, value) {
      config.database.framerate = value.integer(1, 65535);
    },
    compression_interval({ config }, value) {
      config.database.compressionIntervalS = value.integer(0, UINT32_MAX);
    },
  },
  telemetry: {
    enabled({ config }, value) {
      config.telemetry.enabled = value.boolean();
    },
    endpoint({ config }, value) {
      const endpoint = value.string();
      if (!isHttpBaseUrl(endpoint)) {
        value.fail("must be an http:// or https:// URL");
      }
      config.telemetry.endpoint = endpoint;
    },
    service_name({ config }, value) {
      const name = value.string();
      if (name === "") value.fail("must not be empty");
      config.telemetry.serviceName = name;
    },
    flush_interval_ms({ config }, value) {
      config.telemetry.flushIntervalMs = value.integer(1, UINT32_MAX);
    },
  },
  http: {
    listen({ config }, value) {
      config.http.listen = value.listen();
    },
  },
  execution: {
    concurrency({ config }, value) {
      config.execution.concurrency = value.integer(1, 1024);
    },
    timeout({ config }, value) {
      config.execution.timeoutS = value.integer(0, UINT32_MAX);
    },
    on_interrupted({ config }, value) {
      config.execution.onInterrupted = value.oneOf(
        ["rerun", "fail"],
        'must be "rerun" or "fail"',
      );
    },
    history({ config }, value) {
      config.execution.history = value.integer(0, 1000);
    },
    retention({ config }, value) {
      config.execution.retentionMs = value.duration();
    },
  },
  cluster: CLUSTER_SECTION,
};

/** An absolute http(s) URL that paths can be appended to: no query, no fragment. */
function isHttpBaseUrl(text: string): boolean {
  if (!/^https?:\/\/[^/?#]/i.test(text) || !URL.canParse(text)) return false;
  const url = new URL(text);
  return url.hostname !== "" && url.search === "" && url.hash === "" &&
    !text.includes("?") && !text.includes("#");
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
