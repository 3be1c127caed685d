/**
 * The daemon's log: LogTape loggers, one per part, written to stderr as
 * `[LEVEL] message` or as JSON Lines, one record per line whatever the text
 * it carries (spec: configuration.md §5).
 *
 * @module
 */
import {
  compareLogLevel,
  configureSync,
  getJsonLinesFormatter,
  getLogger,
  type Logger,
  type LogLevel,
  type LogRecord,
  resetSync,
  type Sink,
  withFilter,
} from "@logtape/logtape";
import { writeAllSync } from "./io.ts";

/** Log levels of `[log] level` (spec: configuration.md §2). */
export type LevelName = "off" | "error" | "warn" | "info" | "debug" | "trace";

/** Formats of `[log] format` (spec: configuration.md §2, §5). */
export type LogFormat = "text" | "json";

/**
 * The structured fields of an event, for JSON lines: the spec names `job`,
 * `rule`, `runner`, `request`, `detail`, `reason` and `peer`. A field left
 * `undefined` is not written.
 */
export type LogFields = Readonly<
  Record<string, string | number | bigint | boolean | undefined>
>;

/** A message with its fields, as a lazy debug line returns it. */
export interface LogEntry {
  readonly message: string;
  readonly fields: LogFields;
}

const LABELS: Record<LogLevel, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARN",
  error: "ERROR",
  fatal: "ERROR",
};
/** The `level` of a JSON line: the `[log] level` names. */
const JSON_LEVELS: Record<LogLevel, string> = {
  trace: "debug",
  debug: "debug",
  info: "info",
  warning: "warn",
  error: "error",
  fatal: "error",
};
const ENCODER = new TextEncoder();
/** Counts {@link setUpLogging} calls, so loggers know when to look again. */
let setups = 0;

/**
 * Where one part of the daemon writes its log lines. Messages are plain
 * text, written as given: braces in ids are not placeholders. Fields go to
 * JSON lines only; the message must say what matters by itself.
 */
export interface Log {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  /** A function is called only when debug lines are written. */
  debug(
    message: string | (() => string | LogEntry),
    fields?: LogFields,
  ): void;
}

/** Returns the log of one part of the daemon. */
export function logger(part: string): Log {
  const log: Logger = getLogger(["ztick", part]);
  // Asking LogTape per debug line cost ~1.5% of a SET; ask once per setup.
  let debugOn = false;
  let checkedAt = -1;
  const emit = (level: LogLevel, message: string, fields?: LogFields) =>
    log.emit({
      level,
      message: [message],
      rawMessage: message,
      timestamp: Date.now(),
      properties: fields === undefined ? {} : definedFields(fields),
    });
  return {
    error: (message, fields) => emit("error", message, fields),
    warn: (message, fields) => emit("warning", message, fields),
    info: (message, fields) => emit("info", message, fields),
    debug(message, fields) {
      if (checkedAt !== setups) {
        debugOn = log.isEnabledFor("debug");
        checkedAt = setups;
      }
      if (!debugOn) return;
      const entry = typeof message === "function" ? message() : message;
      if (typeof entry === "string") emit("debug", entry, fields);
      else emit("debug", entry.message, { ...fields, ...entry.fields });
    },
  };
}

/**
 * A count with its noun, singular for one: `1 job`, `3 rules`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { count } from "./log.ts";
 *
 * assert.equal(count(1, "job"), "1 job");
 * assert.equal(count(0, "rule"), "0 rules");
 * ```
 */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function definedFields(fields: LogFields): Record<string, unknown> {
  const defined: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) defined[key] = value;
  }
  return defined;
}

/**
 * Formats a record as `[LEVEL] message`, values written raw, with control
 * characters escaped so the record stays one line (spec: configuration.md
 * §5).
 *
 * @example Text from outside cannot start a line of its own
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRecord } from "./log.ts";
 *
 * const record = {
 *   category: ["ztick", "runner"],
 *   level: "debug",
 *   message: ["stderr: boom\n[WARN] forged"],
 *   rawMessage: "stderr: boom\n[WARN] forged",
 *   timestamp: 0,
 *   properties: {},
 * } as const;
 * assert.equal(formatRecord(record), "[DEBUG] stderr: boom\\n[WARN] forged\n");
 * ```
 */
export function formatRecord(record: LogRecord): string {
  let text = "";
  record.message.forEach((part, i) => {
    text += i % 2 === 0 ? part : renderValue(part);
  });
  return `[${LABELS[record.level]}] ${escapeControls(text)}\n`;
}

/**
 * LogTape's JSON Lines formatter with the part as `logger` and the fields
 * at top level; renamed below to the spec's `time` and `level` names.
 */
const JSON_LINES = getJsonLinesFormatter({
  categorySeparator: (category) => category.slice(1).join("."),
  properties: "flatten",
});
const LOGTAPE_TIME_KEY = '{"@timestamp":';

/**
 * Formats a record as one JSON object on one line: `time` (RFC 3339 UTC,
 * milliseconds), `level`, `message`, `logger` (the part), then the
 * event's fields (spec: configuration.md §5).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatJsonRecord } from "./log.ts";
 *
 * const line = formatJsonRecord({
 *   category: ["ztick", "server"],
 *   level: "warning",
 *   message: ["request r1: no such job"],
 *   rawMessage: "request r1: no such job",
 *   timestamp: Date.UTC(2026, 3, 1, 2),
 *   properties: { request: "r1" },
 * });
 * assert.deepEqual(JSON.parse(line), {
 *   time: "2026-04-01T02:00:00.000Z",
 *   level: "warn",
 *   message: "request r1: no such job",
 *   logger: "server",
 *   request: "r1",
 * });
 * assert.ok(line.endsWith("}\n") && line.indexOf("\n") === line.length - 1);
 * ```
 */
export function formatJsonRecord(record: LogRecord): string {
  // A field named like the fixed keys must not replace them.
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record.properties)) {
    const safe = ["@timestamp", "time", "level", "message", "logger"]
        .includes(key)
      ? `field_${key}`
      : key;
    properties[safe] = value;
  }
  const line = JSON_LINES({
    ...record,
    properties: { level: JSON_LEVELS[record.level], ...properties },
  });
  // LogTape names the timestamp "@timestamp"; it always opens the line.
  // U+2028 and U+2029 are valid raw in JSON, but some line readers
  // (Python's splitlines, say) break lines there.
  return `{"time":${line.slice(LOGTAPE_TIME_KEY.length)}`.replace(
    /[\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16)}`,
  );
}

/**
 * Escapes what could break a line or fool a terminal: C0 and C1 control
 * characters, DEL and the Unicode line separators.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeControls } from "./log.ts";
 *
 * assert.equal(escapeControls("a\nb\tc\x1b[31m"), "a\\nb\\tc\\x1b[31m");
 * ```
 */
export function escapeControls(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, (char) => {
    switch (char) {
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      case "\t":
        return "\\t";
    }
    const code = char.charCodeAt(0);
    return code > 0xff
      ? `\\u${code.toString(16)}`
      : `\\x${code.toString(16).padStart(2, "0")}`;
  });
}

function renderValue(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(
        value,
        (_, v) => typeof v === "bigint" ? String(v) : v,
      );
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/**
 * A sink that writes each record to stderr at once, so none is lost at
 * exit, as text or as JSON lines.
 */
export function stderrSink(format: LogFormat = "text"): Sink {
  const format_ = format === "json" ? formatJsonRecord : formatRecord;
  return (record) => {
    writeAllSync(Deno.stderr, ENCODER.encode(format_(record)));
  };
}

/** The sinks in force: `[log]`'s, and the telemetry export's. */
const logging: { level: LevelName; sink: Sink | undefined; exported?: Sink } = {
  level: "off",
  sink: undefined,
};

/**
 * Routes every `ztick` logger to `sink` at `level` and above; `off` writes
 * nothing. Replaces any earlier set-up, keeping {@link exportLogs}'s sink.
 */
export function setUpLogging(
  level: LevelName,
  sink: Sink = stderrSink(),
): void {
  logging.level = level;
  logging.sink = sink;
  configureLogging();
}

/**
 * Also hands every record at warn and above to `sink` (OpenTelemetry
 * export), whatever `[log] level` says; `undefined` stops it (spec:
 * observability.md §2).
 */
export function exportLogs(sink: Sink | undefined): void {
  if (sink === undefined) delete logging.exported;
  else logging.exported = sink;
  configureLogging();
}

function configureLogging(): void {
  resetSync();
  setups++;
  const { level, sink, exported } = logging;
  const sinks: Record<string, Sink> = {};
  let lowest: LogLevel = "warning";
  if (level !== "off" && sink !== undefined) {
    lowest = toLogTape(level);
    sinks.main = exported === undefined ? sink : withFilter(sink, lowest);
    if (compareLogLevel(lowest, "warning") > 0) lowest = "warning";
  }
  if (exported !== undefined) sinks.exported = exported;
  if (Object.keys(sinks).length === 0) return;
  configureSync({
    reset: true,
    sinks,
    loggers: [
      { category: ["ztick"], lowestLevel: lowest, sinks: Object.keys(sinks) },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
}

function toLogTape(level: Exclude<LevelName, "off">): LogLevel {
  return level === "warn" ? "warning" : level;
}
