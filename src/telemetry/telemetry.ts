/**
 * OpenTelemetry export (spec: configuration.md §6, observability.md §2):
 * the face the daemon and the front doors use. This module imports nothing
 * from OpenTelemetry: `startTelemetry()` loads the SDK adapter with a
 * dynamic `import()`, so a daemon with `[telemetry] enabled = false` never
 * loads, parses or runs it, and uses {@link DISABLED_TELEMETRY}.
 *
 * @module
 */
import type { ExecutionSpan, TraceParent, Tracer } from "../scheduler/ports.ts";
import type { MetricsRegistry } from "./registry.ts";

/** A `ztick.request` span in progress. */
export interface RequestSpan {
  /** The span's context, for the job a SET schedules; none when off. */
  readonly traceparent: TraceParent | undefined;
  /**
   * Sets `ztick.success` (and `ztick.command` when only known now, and the
   * HTTP status of an HTTP request) and ends the span.
   */
  end(success: boolean, command?: string, httpStatus?: number): void;
}

/** What an HTTP request's span is told besides the command. */
export interface HttpRequestStart {
  readonly method: string;
  /** The caller's `traceparent` header: the span continues its trace. */
  readonly traceparent: string | undefined;
}

/** Starts `ztick.request` spans; what the front doors are given. */
export interface RequestTracer {
  /**
   * Starts the server span of one request; `command` may be given at
   * `end` instead, when routing decides it.
   */
  startRequest(
    command: string | undefined,
    requestId: string | undefined,
    http?: HttpRequestStart,
  ): RequestSpan;
}

/** Levels a log record is exported at. */
export type ExportedLevel = "warn" | "error";

/** Totals since start: what could not be sent, and the exports themselves. */
export interface TelemetryStats {
  readonly spansDropped: number;
  readonly logRecordsDropped: number;
  /** HTTP POSTs to the collector, all signals. */
  readonly exportsStarted: number;
  readonly exportsFailed: number;
  /** Most POSTs waiting on the collector at once. */
  readonly maxExportsInFlight: number;
}

/** What the daemon holds; the same shape whether telemetry is on or off. */
export interface Telemetry extends Tracer, RequestTracer {
  readonly enabled: boolean;
  /** Queues a log record for `/v1/logs`. */
  emitLog(
    level: ExportedLevel,
    message: string,
    fields: Readonly<Record<string, unknown>>,
  ): void;
  stats(): TelemetryStats;
  /** Exports what is queued, waiting at most `timeoutMs`, then stops. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** Options of {@link startTelemetry}: `[telemetry]` and what the daemon adds. */
export interface TelemetryOptions {
  /** `http://` or `https://` base URL; `/v1/metrics` etc. are appended. */
  readonly endpoint: string;
  readonly serviceName: string;
  readonly serviceVersion: string;
  /** 1–4294967295 as configured; clamped to what timers can wait. */
  readonly flushIntervalMs: number;
  /** Read once per interval for `/v1/metrics`. */
  readonly registry: MetricsRegistry;
  /** When the cumulative series started (the daemon's start), ms since the epoch. */
  readonly startedMs: number;
  /** Where export failures and drop counts go (the daemon's debug log). */
  readonly debug: (message: string) => void;
  /** Per export; 2 s unless a test says otherwise. */
  readonly exportTimeoutMs?: number;
  /** Spans or log records held while the collector is slow; 2048. */
  readonly maxQueueSize?: number;
}

/** Export timeout of configuration.md §6. */
export const EXPORT_TIMEOUT_MS = 2000;

const NO_STATS: TelemetryStats = Object.freeze({
  spansDropped: 0,
  logRecordsDropped: 0,
  exportsStarted: 0,
  exportsFailed: 0,
  maxExportsInFlight: 0,
});
const NO_SPAN: ExecutionSpan & RequestSpan = Object.freeze({
  traceparent: undefined,
  end() {},
});

/**
 * Telemetry turned off: nothing is loaded, nothing is opened, every call
 * returns at once (the front doors are not even given a tracer then).
 */
export const DISABLED_TELEMETRY: Telemetry = Object.freeze({
  enabled: false,
  startRequest: () => NO_SPAN,
  startExecution: () => NO_SPAN,
  emitLog() {},
  stats: () => NO_STATS,
  shutdown: () => Promise.resolve(),
});

/**
 * Loads the OpenTelemetry SDK and exports every `flushIntervalMs`. Opens
 * no connection until the first export.
 */
export async function startTelemetry(
  options: TelemetryOptions,
): Promise<Telemetry> {
  const { startSdkTelemetry } = await import("./_sdk.ts");
  return startSdkTelemetry(options);
}
