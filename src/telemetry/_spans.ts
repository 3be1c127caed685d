/**
 * ztick's two spans on the SDK's tracer: `ztick.request` (server) and
 * `ztick.execution` (internal, linked to the SET's span), and W3C
 * `traceparent` in and out (spec: observability.md §2). Loaded with the
 * SDK only.
 *
 * @module
 */
import {
  type Context,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer as SdkTracer,
} from "@opentelemetry/api";
import type {
  ExecutionSpan,
  ExecutionTrace,
  TraceParent,
} from "../scheduler/ports.ts";
import type { HttpRequestStart, RequestSpan } from "./telemetry.ts";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZEROS = /^0+$/;

/** Starts a `ztick.request` span; an HTTP caller's trace is continued. */
export function startRequestSpan(
  tracer: SdkTracer,
  command: string | undefined,
  requestId: string | undefined,
  http: HttpRequestStart | undefined,
): RequestSpan {
  const span = tracer.startSpan(
    "ztick.request",
    { kind: SpanKind.SERVER },
    http === undefined ? ROOT_CONTEXT : parentOf(http.traceparent),
  );
  if (command !== undefined) span.setAttribute("ztick.command", command);
  if (requestId !== undefined) {
    span.setAttribute("ztick.request.id", requestId);
  }
  if (http !== undefined) {
    span.setAttribute("http.request.method", http.method);
  }
  return new SdkRequestSpan(span);
}

/** Starts a `ztick.execution` span, a root linked to its SET's span. */
export function startExecutionSpan(
  tracer: SdkTracer,
  start: ExecutionTrace,
): ExecutionSpan {
  const link = start.setSpan === undefined
    ? undefined
    : spanContextOf(start.setSpan);
  const links: Link[] = link === undefined ? [] : [{ context: link }];
  const span = tracer.startSpan("ztick.execution", {
    kind: SpanKind.INTERNAL,
    attributes: {
      "ztick.job.id": start.jobId,
      "ztick.rule.id": start.ruleId,
      "ztick.runner": start.runner,
      "ztick.attempt": start.attempt,
      "ztick.lag_ms": start.lagMs,
    },
    links,
  }, ROOT_CONTEXT);
  return new SdkExecutionSpan(span);
}

class SdkRequestSpan implements RequestSpan {
  readonly #span: Span;
  constructor(span: Span) {
    this.#span = span;
  }
  get traceparent(): TraceParent {
    return traceparentOf(this.#span.spanContext());
  }
  end(success: boolean, command?: string, httpStatus?: number): void {
    const span = this.#span;
    if (command !== undefined) span.setAttribute("ztick.command", command);
    if (httpStatus !== undefined) {
      span.setAttribute("http.response.status_code", httpStatus);
    }
    span.setAttribute("ztick.success", success);
    if (!success) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}

class SdkExecutionSpan implements ExecutionSpan {
  readonly #span: Span;
  readonly traceparent: TraceParent;
  constructor(span: Span) {
    this.#span = span;
    this.traceparent = traceparentOf(span.spanContext());
  }
  end(outcome: "executed" | "failed", detail: string): void {
    const span = this.#span;
    span.setAttribute("ztick.outcome", outcome);
    span.setAttribute("ztick.detail", detail);
    if (outcome === "failed") {
      span.setStatus({ code: SpanStatusCode.ERROR, message: detail });
    }
    span.end();
  }
}

/**
 * `00-<trace id>-<span id>-<flags>`, as one flat string: a SET's is kept
 * with its job, and a template literal would keep a tree of pieces (and
 * the span's id strings) instead, 128 bytes a job against 72 (measured).
 */
function traceparentOf({ traceId, spanId, traceFlags }: SpanContext): string {
  const flags = (traceFlags & 0xff).toString(16).padStart(2, "0");
  return ["00", traceId, spanId, flags].join("-");
}

/** A valid `traceparent` as a span context; `undefined` otherwise. */
export function spanContextOf(
  traceparent: string,
): SpanContext | undefined {
  const match = TRACEPARENT.exec(traceparent.trim());
  if (match === null) return undefined;
  const [, traceId, spanId, flags] = match as unknown as string[];
  if (ZEROS.test(traceId!) || ZEROS.test(spanId!)) return undefined;
  return {
    traceId: traceId!,
    spanId: spanId!,
    traceFlags: parseInt(flags!, 16) & 1,
    isRemote: true,
  };
}

/** The caller's span as a parent; a root span when there is none or it is invalid. */
function parentOf(traceparent: string | undefined): Context {
  const parent = traceparent === undefined
    ? undefined
    : spanContextOf(traceparent);
  return parent === undefined
    ? ROOT_CONTEXT
    : trace.setSpanContext(ROOT_CONTEXT, parent);
}
