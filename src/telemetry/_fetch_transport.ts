/**
 * The one piece of the OTLP/HTTP path written here: a POST through Deno's
 * `fetch`, with a hard timeout and no retries. The bodies are encoded by the
 * official `@opentelemetry/otlp-transformer` JSON serializers; this only
 * moves bytes.
 *
 * @module
 */
import type {
  ExportResponse,
  IExporterTransport,
} from "@opentelemetry/otlp-exporter-base";
import { OTLPExporterError } from "@opentelemetry/otlp-exporter-base";

/** Largest collector answer read; the rest is cancelled (answers are tiny `{}`). */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** Counters shared by the transports of one telemetry instance. */
export interface ExportCounters {
  started: number;
  failed: number;
  inFlight: number;
  maxInFlight: number;
}

/** Options of {@link FetchTransport}. */
export interface FetchTransportOptions {
  /** Full URL of the signal, e.g. `http://collector:4318/v1/traces`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly client: Deno.HttpClient;
  /** Aborted at shutdown: every in-flight POST ends at once. */
  readonly signal: AbortSignal;
  readonly counters: ExportCounters;
}

/** Sends one serialized OTLP request per call; never retries. */
export class FetchTransport implements IExporterTransport {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #client: Deno.HttpClient;
  readonly #signal: AbortSignal;
  readonly #counters: ExportCounters;

  constructor(options: FetchTransportOptions) {
    this.#url = options.url;
    this.#headers = { ...options.headers, "Content-Type": "application/json" };
    this.#client = options.client;
    this.#signal = options.signal;
    this.#counters = options.counters;
  }

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const counters = this.#counters;
    counters.started++;
    counters.maxInFlight = Math.max(counters.maxInFlight, ++counters.inFlight);
    const response = await this.#post(data, timeoutMillis);
    counters.inFlight--;
    if (response.status !== "success") counters.failed++;
    return response;
  }

  async #post(
    data: Uint8Array,
    timeoutMillis: number,
  ): Promise<ExportResponse> {
    const timeout = new AbortController();
    const timer = setTimeout(
      () =>
        timeout.abort(
          new DOMException(
            `no answer within ${timeoutMillis} ms`,
            "TimeoutError",
          ),
        ),
      timeoutMillis,
    );
    try {
      const response = await fetch(this.#url, {
        method: "POST",
        headers: this.#headers,
        body: data as Uint8Array<ArrayBuffer>,
        client: this.#client,
        signal: AbortSignal.any([timeout.signal, this.#signal]),
      });
      const body = await readCapped(response, MAX_RESPONSE_BYTES);
      if (response.ok) return { status: "success", data: body };
      return {
        status: "failure",
        error: new OTLPExporterError(
          `Cannot send "${this.#url}": HTTP ${response.status} ${response.statusText}`
            .trim(),
          response.status,
          new TextDecoder().decode(body.subarray(0, 200)),
        ),
      };
    } catch (error) {
      return { status: "failure", error: sendError(this.#url, error) };
    } finally {
      clearTimeout(timer);
    }
  }

  shutdown(): void {}
}

async function readCapped(
  response: Response,
  maxBytes: number,
): Promise<Uint8Array> {
  if (response.body === null) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel();
        break;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(Math.min(size, maxBytes));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** `Cannot send "<url>": <detail>`, keeping the original as `cause`. */
function sendError(url: string, error: unknown): Error {
  let detail = String(error);
  if (error instanceof Error) {
    detail = error.message;
    if (error.cause instanceof Error) {
      // Deno: "fetch failed" caused by "error sending request for url (…): client error (Connect): …"
      detail = error.cause.message.replace(
        /^error sending request for url \([^)]*\): /,
        "",
      );
    } else if (error.name === "TimeoutError" || error.name === "AbortError") {
      detail = `${error.name}: ${error.message}`;
    }
  }
  const wrapped = new Error(`Cannot send "${url}": ${detail}`, {
    cause: error,
  });
  wrapped.name = error instanceof Error ? error.name : "Error";
  return wrapped;
}

/**
 * Splits credentials out of an endpoint: `https://u:p@host/x` becomes
 * `https://host/x` plus an `Authorization: Basic` header, because `fetch`
 * refuses URLs with credentials and secrets must never reach a log line.
 */
export function splitCredentials(
  endpoint: string,
): { url: string; headers: Record<string, string> } {
  const url = new URL(endpoint);
  const headers: Record<string, string> = {};
  if (url.username !== "" || url.password !== "") {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers["Authorization"] = `Basic ${btoa(`${user}:${password}`)}`;
    url.username = "";
    url.password = "";
  }
  return { url: url.href.replace(/\/+$/, ""), headers };
}
