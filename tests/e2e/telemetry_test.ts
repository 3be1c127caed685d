/**
 * OpenTelemetry export end to end: the real daemon, a real OTLP/HTTP
 * receiver decoding what the official serializers post, a real webhook
 * (spec: configuration.md §6, observability.md §2, runners.md §5).
 */
import assert from "node:assert/strict";
import { waitFor } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import {
  attributesOf,
  logsOf,
  metricsOf,
  type OtlpMetric,
  type OtlpReceiver,
  type OtlpSpan,
  spansOf,
  startOtlpReceiver,
} from "../_helpers/otlp_receiver.ts";
import { VERSION } from "../../src/version.ts";
import { Api } from "./_http.ts";

const SERVER = 2;
const INTERNAL = 1;
const STATUS_ERROR = 2;
const SEVERITY_WARN = 13;
/** A caller's span: the HTTP SET continues its trace. */
const CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN = "b7ad6b7169203331";

/** A webhook that answers 200 on /ok and 500 on /ko, keeping each request's headers. */
function startWebhook() {
  const received: { path: string; headers: Headers }[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      await request.body?.cancel();
      const path = new URL(request.url).pathname;
      received.push({ path, headers: request.headers });
      return new Response(null, { status: path === "/ok" ? 200 : 500 });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    received,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Now, in nanoseconds: due at once, and no early-SET warning. */
function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * The scripted workload of issue 13: a rule, 3 SETs (one over HTTP with a
 * caller's `traceparent`), 1 REMOVE, 2 executions (one answered 500, so a
 * warn record), 1 compaction; then the daemon stops, flushing telemetry.
 */
async function runWorkload(receiver: OtlpReceiver) {
  await using webhook = startWebhook();
  const daemon = await startTestDaemon({
    http: true,
    compressionIntervalS: 1,
    telemetry: { endpoint: receiver.endpoint, serviceName: "ztick-e2e" },
  });
  try {
    const api = new Api(daemon.httpPort);
    const rule = (path: string) =>
      `{"pattern":"hook.${
        path.slice(1)
      }.","runner":"http","args":["POST","${webhook.url}${path}"]}`;
    assert.equal((await api.put("/rules/ok", rule("/ok"))).status, 200);
    assert.equal((await api.put("/rules/ko", rule("/ko"))).status, 200);
    using tcp = await daemon.connect();
    assert.equal(await tcp.request(`r1 SET hook.ok.1 ${nowNs()}`), "r1 OK");
    assert.equal(
      await tcp.request("r2 SET later 4102444800000000000"),
      "r2 OK",
    );
    assert.equal(await tcp.request("r3 REMOVE later"), "r3 OK");
    const put = await api.send("PUT", "/jobs/hook.ko.1", {
      headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
      body: `{"execution":"${new Date().toISOString()}"}`,
    });
    assert.equal(put.status, 200, put.body);
    await waitFor(() => webhook.received.length === 2 || undefined, {
      what: "two webhook calls",
    });
    await waitFor(
      async () =>
        /^r4 compression success$/m.test(await tcp.request("r4 STAT")) ||
        undefined,
      { what: "a compaction" },
    );
    await waitFor(async () => {
      const stat = await tcp.request("r5 STAT");
      return /^r5 jobs_executed 1$/m.test(stat) &&
          /^r5 jobs_failed 1$/m.test(stat) || undefined;
    }, { what: "both outcomes recorded" });
  } finally {
    await daemon[Symbol.asyncDispose]();
  }
  return webhook.received;
}

function attributes(span: OtlpSpan): Record<string, unknown> {
  return attributesOf(span.attributes);
}

/** The last value exported for a metric and these attributes. */
function valueOf(
  metrics: OtlpMetric[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const metric = metrics.findLast((m) => m.name === name);
  assert.ok(metric, `metric ${name} exported`);
  const points = metric.sum?.dataPoints ?? metric.gauge?.dataPoints ?? [];
  const point = points.find((p) =>
    JSON.stringify(attributesOf(p.attributes)) === JSON.stringify(labels)
  );
  assert.ok(point, `${name}${JSON.stringify(labels)} has a point`);
  return Number(point.asInt ?? point.asDouble);
}

function histogramOf(metrics: OtlpMetric[], name: string) {
  const metric = metrics.findLast((m) => m.name === name);
  assert.ok(metric?.histogram, `histogram ${name} exported`);
  return metric.histogram.dataPoints;
}

/** observability.md §1 without `ztick_` and `_total`, then ztick's seven. */
const METRIC_NAMES = [
  "build_info",
  "uptime_seconds",
  "jobs",
  "jobs_recurring",
  "rules",
  "connections",
  "executions_pending",
  "executions_inflight",
  "requests",
  "jobs_scheduled",
  "jobs_removed",
  "executions",
  "no_rule",
  "execution_duration_seconds",
  "schedule_lag_seconds",
  "journal_commits",
  "journal_records",
  "journal_commit_duration_seconds",
  "persistence_writable",
  "compactions",
  "auth_failures",
  "process_resident_memory_bytes",
  "jobs_executed",
  "persistence_compactions",
  "rules_active",
  "connections_active",
  "execution_duration_ms",
];

Deno.test("OpenTelemetry export of a scripted workload", async (t) => {
  await using receiver = startOtlpReceiver();
  const webhookCalls = await runWorkload(receiver);
  const spans = spansOf(receiver);
  const metrics = metricsOf(receiver).map((m) => m.item);
  const logs = logsOf(receiver);

  await t.step(
    "every signal carries service.name, service.version and scope ztick, as OTLP/HTTP JSON on its path",
    () => {
      for (const path of ["/v1/traces", "/v1/metrics", "/v1/logs"]) {
        const requests = receiver.received(path);
        assert.ok(requests.length > 0, `${path} received`);
        for (const r of requests) {
          assert.equal(r.contentType, "application/json");
        }
      }
      for (
        const { resource, scope } of [...spans, ...metricsOf(receiver), ...logs]
      ) {
        assert.equal(resource["service.name"], "ztick-e2e");
        assert.equal(resource["service.version"], VERSION);
        assert.equal(scope, "ztick");
      }
    },
  );

  await t.step(
    "every metric of observability.md §2 is exported, with the workload's values",
    () => {
      const names = new Set(metrics.map((m) => m.name));
      for (const name of METRIC_NAMES) assert.ok(names.has(name), name);
      // `retries` is labelled by runner and nothing was retried: no series yet.
      assert.ok(!names.has("retries"));
      assert.ok(!names.has("ztick_requests_total"));
      assert.equal(valueOf(metrics, "build_info", { version: VERSION }), 1);
      assert.ok(valueOf(metrics, "uptime_seconds") > 0);
      assert.equal(valueOf(metrics, "jobs_scheduled"), 3);
      assert.equal(valueOf(metrics, "jobs_removed"), 1);
      assert.equal(valueOf(metrics, "jobs_executed"), 2);
      assert.equal(
        valueOf(metrics, "executions", { runner: "http", outcome: "executed" }),
        1,
      );
      assert.equal(
        valueOf(metrics, "executions", { runner: "http", outcome: "failed" }),
        1,
      );
      assert.equal(
        valueOf(metrics, "requests", { command: "SET", result: "ok" }),
        3,
      );
      assert.equal(
        valueOf(metrics, "requests", { command: "REMOVE", result: "ok" }),
        1,
      );
      assert.equal(valueOf(metrics, "rules"), 2);
      assert.equal(valueOf(metrics, "rules_active"), 2);
      // Closed by the last export (at stop); open in an earlier one.
      assert.equal(valueOf(metrics, "connections_active"), 0);
      assert.ok(
        metricsOf(receiver).some(({ item }) =>
          item.name === "connections_active" &&
          Number(item.sum?.dataPoints[0]?.asInt) >= 1
        ),
        "the TCP client",
      );
      const compactions = valueOf(metrics, "compactions", {
        outcome: "success",
      });
      assert.ok(compactions >= 1);
      assert.equal(valueOf(metrics, "persistence_compactions"), compactions);
      assert.equal(valueOf(metrics, "jobs", { status: "executed" }), 1);
      assert.equal(valueOf(metrics, "jobs", { status: "failed" }), 1);
      assert.ok(valueOf(metrics, "journal_commits") >= 1);
      assert.ok(valueOf(metrics, "process_resident_memory_bytes") > 1e6);
      const sum = metrics.findLast((m) => m.name === "jobs_executed")!.sum!;
      assert.equal(sum.isMonotonic, true);
      assert.ok(
        !metrics.findLast((m) => m.name === "rules_active")!.sum!.isMonotonic,
      );
      const [lag] = histogramOf(metrics, "schedule_lag_seconds");
      assert.equal(Number(lag!.count), 2);
      assert.equal(lag!.explicitBounds.length, 14);
      const [dueToEnd] = histogramOf(metrics, "execution_duration_ms");
      assert.equal(Number(dueToEnd!.count), 1, "successful executions only");
      assert.ok(dueToEnd!.sum! > 0);
      assert.deepEqual(dueToEnd!.explicitBounds.slice(0, 3), [1, 5, 10]);
      const durations = histogramOf(metrics, "execution_duration_seconds");
      assert.equal(durations.reduce((n, p) => n + Number(p.count), 0), 2);
    },
  );

  await t.step(
    "each protocol and HTTP request is a ztick.request server span with its attributes",
    () => {
      const requests = spans.map((s) => s.item).filter((s) =>
        s.name === "ztick.request"
      );
      const tcp = (id: string) =>
        requests.find((s) => attributes(s)["ztick.request.id"] === id);
      for (
        const [id, command] of [["r1", "SET"], ["r2", "SET"], ["r3", "REMOVE"]]
      ) {
        const span = tcp(id!);
        assert.ok(span, `span of ${id}`);
        assert.equal(span.kind, SERVER);
        assert.deepEqual(attributes(span), {
          "ztick.command": command,
          "ztick.request.id": id,
          "ztick.success": true,
        });
      }
      assert.ok(
        requests.some((s) => attributes(s)["ztick.command"] === "STAT"),
      );
      const put = requests.find((s) =>
        attributes(s)["http.request.method"] === "PUT" &&
        attributes(s)["ztick.command"] === "SET"
      );
      assert.ok(put, "the HTTP SET");
      assert.equal(put.kind, SERVER);
      assert.equal(attributes(put)["ztick.success"], true);
      assert.equal(attributes(put)["http.response.status_code"], 200);
      assert.equal(put.traceId, CALLER_TRACE, "continues the caller's trace");
      assert.equal(put.parentSpanId, CALLER_SPAN);
      const rules = requests.filter((s) =>
        attributes(s)["ztick.command"] === "RULE SET"
      );
      assert.equal(rules.length, 2);
    },
  );

  await t.step(
    "each execution is a ztick.execution span linked to its SET's span; the webhook gets its traceparent",
    () => {
      const requests = spans.map((s) => s.item).filter((s) =>
        s.name === "ztick.request"
      );
      const executions = spans.map((s) => s.item).filter((s) =>
        s.name === "ztick.execution"
      );
      assert.equal(executions.length, 2);
      const byJob = (job: string) =>
        executions.find((s) => attributes(s)["ztick.job.id"] === job)!;
      const ok = byJob("hook.ok.1");
      const ko = byJob("hook.ko.1");
      const { "ztick.lag_ms": lag, ...okAttributes } = attributes(ok);
      assert.equal(typeof lag, "number");
      assert.deepEqual(okAttributes, {
        "ztick.job.id": "hook.ok.1",
        "ztick.rule.id": "ok",
        "ztick.runner": "http",
        "ztick.attempt": 1,
        "ztick.outcome": "executed",
        "ztick.detail": "http:200",
      });
      assert.equal(ok.kind, INTERNAL);
      assert.equal(attributes(ko)["ztick.outcome"], "failed");
      assert.equal(attributes(ko)["ztick.detail"], "http:500");
      assert.equal(ko.status?.code, STATUS_ERROR);
      const setOf = (match: (s: OtlpSpan) => boolean) => requests.find(match)!;
      const tcpSet = setOf((s) => attributes(s)["ztick.request.id"] === "r1");
      const httpSet = setOf((s) => s.traceId === CALLER_TRACE);
      for (const [execution, set] of [[ok, tcpSet], [ko, httpSet]] as const) {
        assert.deepEqual(
          execution.links?.map((l) => [l.traceId, l.spanId]),
          [[set.traceId, set.spanId]],
        );
        assert.notEqual(execution.traceId, set.traceId, "a trace of its own");
      }
      for (const call of webhookCalls) {
        const execution = call.path === "/ok" ? ok : ko;
        assert.equal(
          call.headers.get("traceparent"),
          `00-${execution.traceId}-${execution.spanId}-01`,
        );
      }
    },
  );

  await t.step(
    "a warn log record is exported with its fields; no info or debug record is",
    () => {
      const failed = logs.map((l) => l.item).find((l) =>
        String(attributesOf([{ key: "b", value: l.body }]).b).startsWith(
          "execution failed: job=hook.ko.1",
        )
      );
      assert.ok(failed, "the failed execution's warn line");
      assert.equal(failed.severityNumber, SEVERITY_WARN);
      assert.equal(failed.severityText, "WARN");
      const fields = attributesOf(failed.attributes);
      assert.equal(fields.job, "hook.ko.1");
      assert.equal(fields.runner, "http");
      assert.equal(fields.logger, "scheduler");
      for (const { item } of logs) {
        assert.ok(Number(item.severityNumber) >= SEVERITY_WARN);
      }
    },
  );
});
