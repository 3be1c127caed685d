/**
 * A real OTLP/HTTP receiver for tests: a `Deno.serve` server on 127.0.0.1,
 * port 0, that decodes the JSON bodies the exporters post and keeps them per
 * path. It can be switched to misbehave like a broken collector.
 *
 * @module
 */

/** How the receiver answers export requests. */
export type ReceiverMode =
  | { kind: "ok" }
  | { kind: "status"; status: number } // e.g. 500, 503
  | { kind: "hang" } // accepts the request, never answers (until close)
  | { kind: "slow"; delayMs: number }; // answers 200 after delayMs

/** One request the receiver got. */
export interface ReceivedRequest {
  readonly path: string;
  readonly contentType: string | null;
  readonly headers: Headers;
  readonly bytes: number;
  /** The decoded JSON body, or `undefined` when it was not JSON. */
  readonly body: unknown;
  readonly atMs: number;
}

/** A running receiver; `await using` closes it. */
export interface OtlpReceiver extends AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  readonly endpoint: string;
  readonly port: number;
  mode: ReceiverMode;
  /** Every request so far, in arrival order (none kept with `discard`). */
  readonly requests: ReceivedRequest[];
  /** Requests and body bytes received, kept or not. */
  readonly counted: { readonly requests: number; readonly bytes: number };
  /** Requests that arrived on `path` (`/v1/traces`, …). */
  received(path: string): ReceivedRequest[];
  /** Resolves once `predicate` holds, polling every 10 ms; rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Number of requests currently held open (hang or slow mode). */
  readonly pending: number;
  /** Most requests held open at once, since start. */
  readonly maxPending: number;
  close(): Promise<void>;
}

/**
 * Starts a receiver on 127.0.0.1 and an ephemeral port. With `discard`
 * (the bench), bodies are read and counted, not decoded or kept.
 */
export function startOtlpReceiver(
  mode: ReceiverMode = { kind: "ok" },
  { discard = false } = {},
): OtlpReceiver {
  const requests: ReceivedRequest[] = [];
  const counted = { requests: 0, bytes: 0 };
  const shutdown = new AbortController(); // releases held requests on close
  let pending = 0;
  let maxPending = 0;
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      onListen() {},
    },
    async (request) => {
      const raw = new Uint8Array(await request.arrayBuffer());
      const contentType = request.headers.get("content-type");
      counted.requests++;
      counted.bytes += raw.length;
      if (!discard) {
        const json = contentType?.includes("json") ?? false;
        requests.push({
          path: new URL(request.url).pathname,
          contentType,
          headers: request.headers,
          bytes: raw.length,
          body: json ? JSON.parse(new TextDecoder().decode(raw)) : undefined,
          atMs: performance.now(),
        });
      }
      const current = receiver.mode;
      if (current.kind === "status") {
        return new Response("collector error", { status: current.status });
      }
      if (current.kind === "hang" || current.kind === "slow") {
        pending++;
        maxPending = Math.max(maxPending, pending);
        try {
          await held(current.kind === "slow" ? current.delayMs : undefined);
        } finally {
          pending--;
        }
      }
      return Response.json({}, { status: 200 });
    },
  );

  /**
   * Holds a request for `delayMs` (forever if undefined) or until close.
   * The server does not notice a client that gave up, so `pending` counts
   * requests the receiver holds, not what the exporter still waits for.
   */
  function held(delayMs: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer = delayMs === undefined
        ? undefined
        : setTimeout(done, delayMs);
      function done() {
        clearTimeout(timer);
        shutdown.signal.removeEventListener("abort", done);
        resolve();
      }
      shutdown.signal.addEventListener("abort", done);
    });
  }

  const port = server.addr.port;
  const receiver: OtlpReceiver = {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    mode,
    requests,
    counted,
    received(path) {
      return requests.filter((r) => r.path === path);
    },
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = performance.now() + timeoutMs;
      while (!predicate()) {
        if (performance.now() > deadline) {
          throw new Error(
            `Cannot wait for receiver: timed out after ${timeoutMs} ms`,
          );
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    get pending() {
      return pending;
    },
    get maxPending() {
      return maxPending;
    },
    async close() {
      shutdown.abort();
      await server.shutdown();
    },
    [Symbol.asyncDispose]() {
      return receiver.close();
    },
  };
  return receiver;
}

/** Returns a 127.0.0.1 port nothing listens on (bound, then closed). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

// ---- helpers to read OTLP JSON ------------------------------------------

/** An OTLP `AnyValue` decoded to a plain JS value. */
export function anyValue(value: unknown): unknown {
  const v = value as Record<string, unknown>;
  if (v === undefined || v === null) return undefined;
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return v.doubleValue;
  if ("arrayValue" in v) {
    return ((v.arrayValue as { values?: unknown[] }).values ?? []).map(
      anyValue,
    );
  }
  return v;
}

/** OTLP `KeyValue[]` → a plain record. */
export function attributesOf(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of (list ?? []) as { key: string; value: unknown }[]) {
    out[kv.key] = anyValue(kv.value);
  }
  return out;
}

interface Scoped<T> {
  resource: Record<string, unknown>;
  scope: string;
  item: T;
}

function flatten<T>(
  requests: ReceivedRequest[],
  outer: string,
  inner: string,
  leaf: string,
): Scoped<T>[] {
  const out: Scoped<T>[] = [];
  for (const r of requests) {
    const body = r.body as Record<string, unknown[]> | undefined;
    for (const rs of (body?.[outer] ?? []) as Record<string, unknown>[]) {
      const resource = attributesOf(
        (rs.resource as { attributes?: unknown })?.attributes,
      );
      for (const ss of (rs[inner] ?? []) as Record<string, unknown>[]) {
        const scope = (ss.scope as { name?: string } | undefined)?.name ?? "";
        for (const item of (ss[leaf] ?? []) as T[]) {
          out.push({ resource, scope, item });
        }
      }
    }
  }
  return out;
}

/** Every span the receiver got, with its resource and scope. */
export function spansOf(receiver: OtlpReceiver): Scoped<OtlpSpan>[] {
  return flatten(
    receiver.received("/v1/traces"),
    "resourceSpans",
    "scopeSpans",
    "spans",
  );
}

/** Every metric the receiver got, with its resource and scope. */
export function metricsOf(receiver: OtlpReceiver): Scoped<OtlpMetric>[] {
  return flatten(
    receiver.received("/v1/metrics"),
    "resourceMetrics",
    "scopeMetrics",
    "metrics",
  );
}

/** Every log record the receiver got, with its resource and scope. */
export function logsOf(receiver: OtlpReceiver): Scoped<OtlpLogRecord>[] {
  return flatten(
    receiver.received("/v1/logs"),
    "resourceLogs",
    "scopeLogs",
    "logRecords",
  );
}

/** The parts of an OTLP JSON span the tests read. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: unknown;
  links?: { traceId: string; spanId: string }[];
  status?: { code?: number };
}

/** The parts of an OTLP JSON metric the tests read. */
export interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { dataPoints: OtlpNumberPoint[]; isMonotonic?: boolean };
  gauge?: { dataPoints: OtlpNumberPoint[] };
  histogram?: {
    dataPoints: {
      attributes?: unknown;
      count: number | string;
      sum?: number;
      bucketCounts: (number | string)[];
      explicitBounds: number[];
    }[];
  };
}

/** An OTLP number data point. */
export interface OtlpNumberPoint {
  attributes?: unknown;
  asInt?: number | string;
  asDouble?: number;
}

/** The parts of an OTLP JSON log record the tests read. */
export interface OtlpLogRecord {
  severityNumber?: number;
  severityText?: string;
  body?: unknown;
  attributes?: unknown;
}
