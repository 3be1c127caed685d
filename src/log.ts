import {
  configureSync,
  getLogger,
  type Logger,
  type LogLevel,
  type LogRecord,
  resetSync,
  type Sink,
} from "@logtape/logtape";
import { writeAllSync } from "./io.ts";

/** Log levels of `[log] level` (spec: configuration.md §2). */
export type LevelName = "off" | "error" | "warn" | "info" | "debug" | "trace";

const LABELS: Record<LogLevel, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARN",
  error: "ERROR",
  fatal: "ERROR",
};
const ENCODER = new TextEncoder();
/** Counts {@link setUpLogging} calls, so loggers know when to look again. */
let setups = 0;

/**
 * Where one part of the daemon writes its log lines. Messages are plain
 * text, written as given: braces in ids are not placeholders.
 */
export interface Log {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  /** A function is called only when debug lines are written. */
  debug(message: string | (() => string)): void;
}

/** Returns the log of one part of the daemon. */
export function logger(part: string): Log {
  const log: Logger = getLogger(["ztick", part]);
  // Asking LogTape per debug line cost ~1.5% of a SET; ask once per setup.
  let debugOn = false;
  let checkedAt = -1;
  return {
    error: (message) => log.error`${message}`,
    warn: (message) => log.warn`${message}`,
    info: (message) => log.info`${message}`,
    debug(message) {
      if (checkedAt !== setups) {
        debugOn = log.isEnabledFor("debug");
        checkedAt = setups;
      }
      if (!debugOn) return;
      log.debug`${typeof message === "function" ? message() : message}`;
    },
  };
}

/**
 * Formats a record as `[LEVEL] message`, with values written raw (spec:
 * configuration.md §5).
 */
export function formatRecord(record: LogRecord): string {
  let text = "";
  record.message.forEach((part, i) => {
    text += i % 2 === 0 ? part : renderValue(part);
  });
  return `[${LABELS[record.level]}] ${text}\n`;
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

/** A sink that writes each line to stderr at once, so none is lost at exit. */
export function stderrSink(): Sink {
  return (record) => {
    writeAllSync(Deno.stderr, ENCODER.encode(formatRecord(record)));
  };
}

/**
 * Routes every `ztick` logger to `sink` at `level` and above; `off` writes
 * nothing. Replaces any earlier set-up.
 */
export function setUpLogging(
  level: LevelName,
  sink: Sink = stderrSink(),
): void {
  resetSync();
  setups++;
  if (level === "off") return;
  configureSync({
    reset: true,
    sinks: { main: sink },
    loggers: [
      { category: ["ztick"], lowestLevel: toLogTape(level), sinks: ["main"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
}

function toLogTape(level: Exclude<LevelName, "off">): LogLevel {
  return level === "warn" ? "warning" : level;
}
