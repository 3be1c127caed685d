/** Execution spans through the Tracer port (spec: observability.md §2). */
import assert from "node:assert/strict";
import { parseRequest } from "../../../src/protocol/request.ts";
import { renderPrometheus } from "../../../src/telemetry/prometheus.ts";
import type {
  ExecutionSpan,
  ExecutionTrace,
  Tracer,
} from "../../../src/scheduler/ports.ts";
import {
  exited,
  type Fixture,
  fixture,
  MS,
  T0,
} from "../../_helpers/scheduler_fixture.ts";

const SET_SPAN = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/** A tracer that keeps what it was told; span i's traceparent ends in i. */
class RecordingTracer implements Tracer {
  readonly started: ExecutionTrace[] = [];
  readonly ended: [string, string][] = [];
  startExecution(trace: ExecutionTrace): ExecutionSpan {
    const i = this.started.push(trace) - 1;
    return {
      traceparent: `00-${"1".repeat(32)}-${String(i).padStart(16, "0")}-01`,
      end: (outcome, detail) => void this.ended.push([outcome, detail]),
    };
  }
}

/** A SET as a front door applies it, with its request's span. */
function set(f: Fixture, line: string, span: string | undefined): void {
  const request = parseRequest(`r ${line}`);
  assert.equal(request.kind, "command");
  if (request.kind !== "command") return;
  f.scheduler.commands.execute(request.command, "*", span);
}

Deno.test("each execution starts a span with its attributes and the SET's span; the runner gets its traceparent", async () => {
  const tracer = new RecordingTracer();
  const f = fixture({ tracer });
  f.request("RULE SET r hook. retries=1 backoff=1s shell x");
  set(f, `SET hook.1 ${T0 - 2n * MS}`, SET_SPAN);
  await f.tick();
  assert.deepEqual(tracer.started, [{
    jobId: "hook.1",
    ruleId: "r",
    runner: "shell",
    attempt: 1,
    lagMs: 2,
    setSpan: SET_SPAN,
  }]);
  assert.equal(
    f.executor.started[0]!.execution.traceparent,
    `00-${"1".repeat(32)}-${"0".repeat(16)}-01`,
  );
  f.clock.ns = T0 + 10n * MS;
  await f.finish(0, exited(1));
  assert.deepEqual(tracer.ended, [["failed", "exit:1"]]);
  // The retry is a new version of the job: it keeps the SET's span.
  f.clock.ns = T0 + 2000n * MS;
  await f.tick();
  assert.equal(tracer.started[1]!.attempt, 2);
  assert.equal(tracer.started[1]!.setSpan, SET_SPAN);
  await f.finish(1, exited(0));
  assert.deepEqual(tracer.ended[1], ["executed", "exit:0"]);
});

Deno.test("a SET without a span (telemetry off, or replayed) leaves its executions unlinked", async () => {
  const tracer = new RecordingTracer();
  const f = fixture({ tracer });
  f.request("RULE SET r hook. shell x");
  set(f, `SET hook.1 ${T0}`, SET_SPAN);
  set(f, `SET hook.1 ${T0}`, undefined); // re-SET: its own span, none
  f.restore({
    kind: "set",
    job: { id: "hook.2", executionNs: T0, status: "planned" },
  });
  await f.tick();
  assert.deepEqual(tracer.started.map((t) => [t.jobId, t.setSpan]), [
    ["hook.1", undefined],
    ["hook.2", undefined],
  ]);
});

Deno.test("execution_duration_ms counts from the due time to the end of successful executions only", async () => {
  const f = fixture();
  f.request("RULE SET r hook. shell x");
  f.request(`SET hook.1 ${T0 - 5n * MS}`);
  f.request(`SET hook.2 ${T0}`);
  await f.tick();
  f.clock.ns = T0 + 20n * MS;
  await f.finish(0, exited(0));
  await f.finish(1, exited(1));
  const [series] = f.registry.histogramSeries("execution_duration_ms");
  assert.equal(series!.count, 1);
  assert.equal(series!.sum, 25);
  // Not on /metrics: an OTLP name only (observability.md §2).
  assert.doesNotMatch(renderPrometheus(f.registry), /execution_duration_ms/);
});

Deno.test("every run of a recurring job links the span of the CRON that scheduled it", async () => {
  const tracer = new RecordingTracer();
  const f = fixture({ tracer });
  f.request("RULE SET r tick. shell x");
  set(f, 'CRON tick.1 "* * * * * *"', SET_SPAN);
  for (let i = 1n; i <= 3n; i++) {
    f.clock.ns = T0 + i * 1000n * MS;
    await f.tick();
    await f.finish(Number(i - 1n), exited(0));
  }
  assert.deepEqual(
    tracer.started.map((trace) => trace.setSpan),
    [SET_SPAN, SET_SPAN, SET_SPAN],
  );
});
