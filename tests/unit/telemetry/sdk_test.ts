import assert from "node:assert/strict";
import { MetricsRegistry } from "../../../src/telemetry/registry.ts";
import { startTelemetry } from "../../../src/telemetry/telemetry.ts";
import { spanContextOf } from "../../../src/telemetry/_spans.ts";
import { telemetrySink } from "../../../src/telemetry/logtape_sink.ts";
import { DISABLED_TELEMETRY } from "../../../src/telemetry/telemetry.ts";
import {
  logsOf,
  metricsOf,
  spansOf,
  startOtlpReceiver,
} from "../../_helpers/otlp_receiver.ts";

const UINT32_MAX = 4294967295;

function options(endpoint: string, flushIntervalMs: number) {
  const debugLines: string[] = [];
  return {
    debugLines,
    options: {
      endpoint,
      serviceName: "ztick-unit",
      serviceVersion: "0.0.0-test",
      flushIntervalMs,
      registry: new MetricsRegistry(),
      startedMs: Date.now(),
      debug: (line: string) => debugLines.push(line),
    },
  };
}

Deno.test("a hung collector keeps the queues bounded: what does not fit is dropped, counted and reported at debug", async () => {
  await using receiver = startOtlpReceiver({ kind: "hang" });
  const { options: o, debugLines } = options(receiver.endpoint, 50);
  const telemetry = await startTelemetry(o);
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    telemetry.startRequest("SET", `r${i}`).end(true);
    telemetry.emitLog("warn", "execution failed", { job: `b.${i}` });
    // Let exports start (and hang) now and then.
    if (i % 10_000 === 0) await new Promise((r) => setTimeout(r, 60));
  }
  await receiver.waitFor(() =>
    debugLines.some((line) => line.startsWith("telemetry dropped"))
  );
  const stats = telemetry.stats();
  assert.ok(stats.spansDropped > n - 10 * 2048, `${stats.spansDropped}`);
  assert.ok(stats.logRecordsDropped > n - 10 * 2048);
  // One POST per signal waits on the collector; nothing piles up.
  assert.ok(stats.maxExportsInFlight <= 3, `${stats.maxExportsInFlight}`);
  await telemetry.shutdown(500);
});

Deno.test("flush_interval_ms up to 4294967295 is clamped to what timers wait: nothing is sent before the flush at shutdown", async () => {
  await using receiver = startOtlpReceiver();
  const { options: o } = options(receiver.endpoint, UINT32_MAX);
  const telemetry = await startTelemetry(o);
  telemetry.startRequest("GET", "r1").end(true);
  telemetry.emitLog("warn", "a warning", {});
  // A delay beyond 2^31-1 ms would fire after 1 ms, again and again.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(receiver.requests.length, 0);
  await telemetry.shutdown();
  assert.equal(spansOf(receiver).length, 1);
  assert.equal(logsOf(receiver).length, 1);
  assert.ok(metricsOf(receiver).length > 0);
});

Deno.test("credentials in the endpoint become a Basic Authorization header and never reach a log line", async () => {
  await using receiver = startOtlpReceiver({ kind: "status", status: 500 });
  const endpoint = receiver.endpoint.replace("//", "//user:s3cret@");
  const { options: o, debugLines } = options(endpoint, 50);
  const telemetry = await startTelemetry(o);
  telemetry.startRequest("GET", "r1").end(true);
  await receiver.waitFor(() => debugLines.length > 0);
  await telemetry.shutdown();
  assert.equal(
    receiver.requests[0]!.headers.get("authorization"),
    `Basic ${btoa("user:s3cret")}`,
  );
  assert.ok(
    debugLines.every((line) => !line.includes("s3cret")),
    debugLines.join("\n"),
  );
});

Deno.test("a traceparent is read only when valid (W3C trace context, version 00)", () => {
  const trace = "0af7651916cd43dd8448eb211c80319c";
  const span = "b7ad6b7169203331";
  assert.deepEqual(spanContextOf(`00-${trace}-${span}-01`), {
    traceId: trace,
    spanId: span,
    traceFlags: 1,
    isRemote: true,
  });
  for (
    const bad of [
      "",
      `01-${trace}-${span}-01`,
      `00-${"0".repeat(32)}-${span}-01`,
      `00-${trace}-${"0".repeat(16)}-01`,
      `00-${trace.toUpperCase()}-${span}-01`,
      `00-${trace}-${span}`,
    ]
  ) {
    assert.equal(spanContextOf(bad), undefined, bad);
  }
});

Deno.test({
  name:
    "telemetrySink() hands warnings and errors to the export with their fields and part, not info or debug",
  permissions: "none",
  fn() {
    const emitted: unknown[][] = [];
    const sink = telemetrySink({
      ...DISABLED_TELEMETRY,
      emitLog: (...args) => void emitted.push(args),
    });
    for (
      const level of ["debug", "info", "warning", "error", "fatal"] as const
    ) {
      sink({
        category: ["ztick", "scheduler"],
        level,
        message: [`${level} line`],
        rawMessage: `${level} line`,
        timestamp: 0,
        properties: { job: "a.1" },
      });
    }
    assert.deepEqual(emitted, [
      ["warn", "warning line", { job: "a.1", logger: "scheduler" }],
      ["error", "error line", { job: "a.1", logger: "scheduler" }],
      ["error", "fatal line", { job: "a.1", logger: "scheduler" }],
    ]);
  },
});
