/**
 * The daemon's LogTape records to OTLP logs: a sink that hands `warning`,
 * `error` and `fatal` records to {@link Telemetry.emitLog} (spec:
 * observability.md §2, every log record at warn or above).
 *
 * @module
 */
import type { LogRecord, Sink } from "@logtape/logtape";
import type { Telemetry } from "./telemetry.ts";

/**
 * A sink for `setUpLogging`'s export slot: records at warn and above reach
 * OTLP whatever `[log] level` says for stderr, with the part as `logger`
 * and the event's fields as attributes.
 */
export function telemetrySink(telemetry: Telemetry): Sink {
  return (record: LogRecord) => {
    const { level } = record;
    if (level !== "warning" && level !== "error" && level !== "fatal") return;
    let message = "";
    record.message.forEach((part, i) => {
      message += i % 2 === 0
        ? part
        : part instanceof Error
        ? part.message
        : String(part);
    });
    telemetry.emitLog(level === "warning" ? "warn" : "error", message, {
      ...record.properties,
      logger: record.category.slice(1).join("."),
    });
  };
}
