/**
 * Cost per request span and per execution span (with its `traceparent`),
 * three ways: telemetry off (the front doors get no tracer, executions a
 * no-op one), ztick's SDK adapter exporting to a real receiver, and Deno's
 * built-in OpenTelemetry (`OTEL_DENO=true`, configured by environment
 * variables at process start) through `@opentelemetry/api`.
 *
 *     deno run --lock=dev.lock -A bench/otel_cost.ts
 *
 * Each mode runs in a fresh child process (the built-in one needs its
 * environment at start). "hot" is the time inside chunks of 256 spans,
 * what a request or execution waits; "CPU" is the process's CPU time (all
 * threads) over the run divided by the spans, so serialization, export and
 * GC are in it. The harness's own CPU is the "off" row's. See
 * bench/README.md.
 *
 * @module
 */
// deno-lint-ignore-file no-console
import process from "node:process";
import { startOtlpReceiver } from "../tests/_helpers/otlp_receiver.ts";
import { MetricsRegistry } from "../src/telemetry/registry.ts";
import {
  DISABLED_TELEMETRY,
  startTelemetry,
  type Telemetry,
} from "../src/telemetry/telemetry.ts";
import type { ExecutionTrace } from "../src/scheduler/ports.ts";

const N = 100_000;
const CHUNK = 256;
const ROUNDS = 3;
const MODES = ["off", "sdk", "deno-builtin"] as const;
type Mode = (typeof MODES)[number];

interface Cost {
  readonly hotUs: number;
  readonly cpuUs: number;
}

/** Runs `body` N times in chunks, a macrotask between them; best of 3. */
async function measure(body: (i: number) => void): Promise<Cost> {
  let best: Cost = { hotUs: Infinity, cpuUs: Infinity };
  for (let round = 0; round < ROUNDS; round++) {
    let hot = 0;
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < N; i += CHUNK) {
      const t0 = performance.now();
      for (let k = i; k < i + CHUNK; k++) body(k);
      hot += performance.now() - t0;
      await new Promise((r) => setTimeout(r, 0));
    }
    await new Promise((r) => setTimeout(r, 1200)); // the last export
    const cpu = process.cpuUsage(cpu0);
    const cost = { hotUs: hot * 1000 / N, cpuUs: (cpu.user + cpu.system) / N };
    if (cost.hotUs < best.hotUs) best = cost;
  }
  return best;
}

const SET_SPAN = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

function executionTrace(i: number): ExecutionTrace {
  return {
    jobId: `b.${i}`,
    ruleId: "all",
    runner: "http",
    attempt: 1,
    lagMs: 1.5,
    setSpan: SET_SPAN,
  };
}

/** The two spans through ztick's own face (off: what the daemon does then). */
function ztickSpans(telemetry: Telemetry) {
  const trace = telemetry.enabled ? telemetry : undefined;
  return {
    request: (i: number) => trace?.startRequest("SET", `r${i}`).end(true),
    execution: (i: number) => {
      const span = telemetry.startExecution(executionTrace(i));
      void span.traceparent;
      span.end("executed", "http:200");
    },
  };
}

/** The same two spans on Deno's built-in tracer. */
async function builtinSpans() {
  const api = await import("@opentelemetry/api");
  const tracer = api.trace.getTracer("ztick", "0.0.0");
  const link = tracer.startSpan("ztick.request").spanContext();
  return {
    request: (i: number) => {
      const span = tracer.startSpan("ztick.request", {
        kind: api.SpanKind.SERVER,
        attributes: { "ztick.command": "SET", "ztick.request.id": `r${i}` },
      }, api.ROOT_CONTEXT);
      span.setAttribute("ztick.success", true);
      span.end();
    },
    execution: (i: number) => {
      const { setSpan: _, ...attributes } = executionTrace(i);
      const span = tracer.startSpan("ztick.execution", {
        attributes: {
          "ztick.job.id": attributes.jobId,
          "ztick.rule.id": attributes.ruleId,
          "ztick.runner": attributes.runner,
          "ztick.attempt": attributes.attempt,
          "ztick.lag_ms": attributes.lagMs,
        },
        links: [{ context: link }],
      }, api.ROOT_CONTEXT);
      const { traceId, spanId } = span.spanContext();
      void `00-${traceId}-${spanId}-01`;
      span.setAttribute("ztick.outcome", "executed");
      span.setAttribute("ztick.detail", "http:200");
      span.end();
    },
  };
}

async function child(mode: Mode, endpoint: string) {
  let telemetry = DISABLED_TELEMETRY;
  const t0 = performance.now();
  if (mode === "sdk") {
    telemetry = await startTelemetry({
      endpoint,
      serviceName: "ztick-bench",
      serviceVersion: "0.0.0",
      flushIntervalMs: 1000,
      registry: new MetricsRegistry(),
      startedMs: Date.now(),
      debug: () => {},
    });
  }
  const spans = mode === "deno-builtin"
    ? await builtinSpans()
    : ztickSpans(telemetry);
  const startMs = performance.now() - t0;
  const request = await measure(spans.request);
  const execution = await measure(spans.execution);
  await telemetry.shutdown();
  return { mode, startMs, request, execution };
}

async function parent() {
  await using receiver = startOtlpReceiver({ kind: "ok" }, { discard: true });
  const rows = [];
  for (const mode of MODES) {
    const env: Record<string, string> = mode === "deno-builtin"
      ? {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_SERVICE_NAME: "ztick-bench",
        OTEL_DENO_CONSOLE: "ignore",
      }
      : {};
    const before = receiver.counted.requests;
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--lock=dev.lock",
        "--allow-net=127.0.0.1",
        "--allow-read",
        "--v8-flags=--max-semi-space-size=8",
        import.meta.filename!,
        "child",
        mode,
        receiver.endpoint,
      ],
      env,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const result = JSON.parse(new TextDecoder().decode(output.stdout));
    rows.push({ ...result, posts: receiver.counted.requests - before });
  }
  const f = (x: number) => x.toFixed(2);
  console.log(
    `N=${N} spans per measurement, chunks of ${CHUNK}, best of ${ROUNDS}; µs per span`,
  );
  console.log(
    "| mode | start (ms) | request span, hot | request span, CPU incl. export | execution span + traceparent, hot | execution, CPU incl. export | OTLP POSTs |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.mode} | ${r.startMs.toFixed(1)} | ${f(r.request.hotUs)} | ${
        f(r.request.cpuUs)
      } | ${f(r.execution.hotUs)} | ${f(r.execution.cpuUs)} | ${r.posts} |`,
    );
  }
}

if (Deno.args[0] === "child") {
  console.log(
    JSON.stringify(await child(Deno.args[1] as Mode, Deno.args[2]!)),
  );
} else {
  await parent();
}
