/**
 * The OpenTelemetry JS SDK behind {@link Telemetry}, loaded only by
 * `startTelemetry()` (a dynamic import), never when telemetry is off.
 *
 * The SDK's TracerProvider, LoggerProvider and MeterProvider with their
 * batching processors and periodic reader; the official OTLP JSON
 * serializers of `@opentelemetry/otlp-transformer` behind the official
 * `OTLPExporterBase` and export delegate of `otlp-exporter-base`; and a
 * fetch transport without retries (`_fetch_transport.ts`). The
 * `exporter-*-otlp-http` classes are not used: they read 28 `OTEL_*`
 * variables (so `--allow-env`, and the environment could change what the
 * configuration says), and retry for as long as the timeout allows.
 *
 * @module
 */
import {
  type Attributes,
  type AttributeValue,
  diag,
  DiagLogLevel,
  SeverityNumber,
} from "@opentelemetry/api";
import {
  loggingErrorHandler,
  SDK_INFO,
  setGlobalErrorHandler,
} from "@opentelemetry/core";
import {
  type Resource,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  type ReadableSpan,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type ReadableLogRecord,
} from "@opentelemetry/sdk-logs";
import {
  createOtlpNetworkExportDelegate,
  ExporterMetrics,
  OTLPExporterBase,
} from "@opentelemetry/otlp-exporter-base";
import {
  type IExporterMetricsHelper,
  type ISerializer,
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  LogsExporterMetricsHelper,
  MetricsExporterMetricsHelper,
  TraceExporterMetricsHelper,
} from "@opentelemetry/otlp-transformer";
import {
  type ExportCounters,
  FetchTransport,
  splitCredentials,
} from "./_fetch_transport.ts";
import { dropCounter, dropReport } from "./_drops.ts";
import { GatedExporter, SKIPPED_MESSAGE } from "./_gate.ts";
import { RegistryProducer } from "./_otlp_metrics.ts";
import { startExecutionSpan, startRequestSpan } from "./_spans.ts";
import {
  EXPORT_TIMEOUT_MS,
  type Telemetry,
  type TelemetryOptions,
} from "./telemetry.ts";

/** Instrumentation scope of every signal (configuration.md §6). */
export const SCOPE_NAME = "ztick";
/** Longest delay timers honour; beyond it they fire after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const DEFAULT_MAX_QUEUE_SIZE = 2048;
const MAX_EXPORT_BATCH_SIZE = 512;
/** The processors send one batch at a time; only their flush at shutdown sends more. */
const BATCH_CONCURRENCY_LIMIT = 4;
/** A metric export still waiting makes the next one fail at once (cumulative: nothing is lost). */
const METRIC_CONCURRENCY_LIMIT = 1;
/** The processors' own timeout trails the transport's, so its slot is free first. */
const PROCESSOR_TIMEOUT_MARGIN_MS = 250;

/** What the pieces of one telemetry instance share. */
interface Shared {
  readonly base: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly maxQueueSize: number;
  readonly client: Deno.HttpClient;
  /** Aborted at shutdown: every POST still waiting ends then. */
  readonly stop: AbortController;
  readonly counters: ExportCounters;
  readonly drops: { spans: number; logRecords: number };
}

/** Starts the SDK; see `startTelemetry()` in telemetry.ts. */
export function startSdkTelemetry(options: TelemetryOptions): Telemetry {
  const shared = sharedOf(options);
  const resource = resourceFromAttributes({
    "service.name": options.serviceName,
    "service.version": options.serviceVersion,
    "telemetry.sdk.name": SDK_INFO["telemetry.sdk.name"]!,
    "telemetry.sdk.language": SDK_INFO["telemetry.sdk.language"]!,
    "telemetry.sdk.version": SDK_INFO["telemetry.sdk.version"]!,
  });
  const redact = (text: string) =>
    text.replaceAll(options.endpoint, shared.base);
  installDiagnostics((message) => options.debug(redact(message)));
  const tracerProvider = tracesOf(shared, resource);
  const loggerProvider = logsOf(shared, resource);
  const meterProvider = metricsOf(shared, resource, options);
  const tracer = tracerProvider.getTracer(SCOPE_NAME, options.serviceVersion);
  const logger = loggerProvider.getLogger(SCOPE_NAME, options.serviceVersion);
  let closed = false;
  return {
    enabled: true,
    startRequest: (command, requestId, http) =>
      startRequestSpan(tracer, command, requestId, http),
    startExecution: (start) => startExecutionSpan(tracer, start),
    emitLog(level, message, fields) {
      if (closed) return;
      logger.emit({
        timestamp: Date.now(),
        severityNumber: level === "warn"
          ? SeverityNumber.WARN
          : SeverityNumber.ERROR,
        severityText: level.toUpperCase(),
        body: message,
        attributes: attributesOf(fields),
      });
    },
    stats: () => ({
      spansDropped: shared.drops.spans,
      logRecordsDropped: shared.drops.logRecords,
      exportsStarted: shared.counters.started,
      exportsFailed: shared.counters.failed,
      maxExportsInFlight: shared.counters.maxInFlight,
    }),
    async shutdown(timeoutMs = shared.timeoutMs) {
      if (closed) return;
      closed = true;
      await shutDown(shared, timeoutMs, [
        () => tracerProvider.shutdown(),
        () => loggerProvider.shutdown(),
        () => meterProvider.shutdown({ timeoutMillis: timeoutMs }),
      ]);
    },
  };
}

function sharedOf(options: TelemetryOptions): Shared {
  const parsed = new URL(options.endpoint);
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(
      `Cannot start telemetry "${parsed.protocol}": not an http(s) URL`,
    );
  }
  const intervalMs = Math.min(
    Math.max(1, options.flushIntervalMs),
    MAX_TIMER_MS,
  );
  const { url: base, headers } = splitCredentials(options.endpoint);
  return {
    base,
    headers: {
      "User-Agent": `${options.serviceName}/${options.serviceVersion}`,
      ...headers,
    },
    intervalMs,
    timeoutMs: options.exportTimeoutMs ?? EXPORT_TIMEOUT_MS,
    maxQueueSize: options.maxQueueSize ?? DEFAULT_MAX_QUEUE_SIZE,
    client: Deno.createHttpClient({
      poolIdleTimeout: Math.min(Math.max(intervalMs * 2, 30_000), MAX_TIMER_MS),
    }),
    stop: new AbortController(),
    counters: { started: 0, failed: 0, inFlight: 0, maxInFlight: 0 },
    drops: { spans: 0, logRecords: 0 },
  };
}

/** SDK diagnostics and asynchronous export errors go to the debug log. */
function installDiagnostics(debug: (message: string) => void): void {
  const log = (message: string, ...args: unknown[]) =>
    debug(`telemetry: ${[message, ...args.map(describe)].join(" ")}`);
  diag.setLogger(
    { error: log, warn: log, info: log, debug: log, verbose: log },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  setGlobalErrorHandler((error) => {
    // Skipped exports are in the drop count, not logged one by one.
    const text = describe(error);
    if (!text.includes(SKIPPED_MESSAGE)) {
      debug(`telemetry export failed: ${text}`);
    }
  });
}

function exporterFor<T>(
  shared: Shared,
  signal: {
    path: string;
    serializer: ISerializer<T, unknown>;
    helper: IExporterMetricsHelper<T>;
    componentType: string;
    concurrencyLimit: number;
  },
): GatedExporter<T> {
  const url = `${shared.base}/${signal.path}`;
  const transport = new FetchTransport({
    url,
    headers: shared.headers,
    client: shared.client,
    signal: shared.stop.signal,
    counters: shared.counters,
  });
  const metrics = new ExporterMetrics<T>({
    componentType: signal.componentType,
    metricsHelper: signal.helper,
    url,
    meterProvider: undefined,
    responseAttributesFromError: () => ({}),
  });
  const exporter = new OTLPExporterBase(
    createOtlpNetworkExportDelegate(
      {
        timeoutMillis: shared.timeoutMs,
        concurrencyLimit: signal.concurrencyLimit,
        compression: "none",
      },
      signal.serializer,
      metrics,
      transport,
    ),
  );
  return new GatedExporter(exporter, shared.intervalMs);
}

/** What the span and log processors share: batching, bounds, timeouts. */
function batching(shared: Shared, dropped: (count: number) => void) {
  return {
    scheduledDelayMillis: shared.intervalMs,
    exportTimeoutMillis: shared.timeoutMs + PROCESSOR_TIMEOUT_MARGIN_MS,
    maxQueueSize: shared.maxQueueSize,
    maxExportBatchSize: Math.min(MAX_EXPORT_BATCH_SIZE, shared.maxQueueSize),
    selfObsMeterProvider: dropCounter(dropped),
  };
}

function tracesOf(shared: Shared, resource: Resource): TracerProvider {
  const exporter = exporterFor<ReadableSpan[]>(shared, {
    path: "v1/traces",
    serializer: JsonTraceSerializer,
    helper: TraceExporterMetricsHelper,
    componentType: "otlp_http_json_span_exporter",
    concurrencyLimit: BATCH_CONCURRENCY_LIMIT,
  });
  const dropped = (n: number) => void (shared.drops.spans += n);
  return new TracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor({ exporter, ...batching(shared, dropped) }),
    ],
  });
}

function logsOf(shared: Shared, resource: Resource): LoggerProvider {
  const exporter = exporterFor<ReadableLogRecord[]>(shared, {
    path: "v1/logs",
    serializer: JsonLogsSerializer,
    helper: LogsExporterMetricsHelper,
    componentType: "otlp_http_json_log_exporter",
    concurrencyLimit: BATCH_CONCURRENCY_LIMIT,
  });
  const dropped = (n: number) => void (shared.drops.logRecords += n);
  return new LoggerProvider({
    resource,
    processors: [
      new BatchLogRecordProcessor({ exporter, ...batching(shared, dropped) }),
    ],
  });
}

function metricsOf(
  shared: Shared,
  resource: Resource,
  options: TelemetryOptions,
): MeterProvider {
  const exporter = exporterFor<ResourceMetrics>(shared, {
    path: "v1/metrics",
    serializer: JsonMetricsSerializer,
    helper: MetricsExporterMetricsHelper,
    componentType: "otlp_http_json_metric_exporter",
    concurrencyLimit: METRIC_CONCURRENCY_LIMIT,
  }) as GatedExporter<ResourceMetrics> & PushMetricExporter;
  exporter.selectAggregationTemporality = () =>
    AggregationTemporality.CUMULATIVE;
  const registry = new RegistryProducer(options.registry, {
    resource,
    scope: { name: SCOPE_NAME, version: options.serviceVersion },
    startedMs: options.startedMs,
  });
  return new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: shared.intervalMs,
        exportTimeoutMillis: Math.min(shared.timeoutMs, shared.intervalMs),
        metricProducers: [registry, dropReport(shared.drops, options.debug)],
      }),
    ],
  });
}

/**
 * Flushes every provider, waiting at most `timeoutMs`; then aborts what
 * still waits on the collector and gives the process-wide hooks back.
 */
async function shutDown(
  shared: Shared,
  timeoutMs: number,
  providers: (() => Promise<void>)[],
): Promise<void> {
  const all = Promise.allSettled(providers.map((stop) => stop()));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([all, deadline]);
  clearTimeout(timer);
  shared.stop.abort();
  await all;
  shared.client.close();
  diag.disable();
  setGlobalErrorHandler(loggingErrorHandler());
}

function attributesOf(fields: Readonly<Record<string, unknown>>): Attributes {
  const out: Attributes = {};
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    out[key] = typeof value === "string" || typeof value === "number" ||
        typeof value === "boolean"
      ? value as AttributeValue
      : value instanceof Error
      ? value.message
      : String(value);
  }
  return out;
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (Array.isArray(value)) return value.map(describe).join("; ");
  return String(value);
}
