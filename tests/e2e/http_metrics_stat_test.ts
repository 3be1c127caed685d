/**
 * `/metrics` counters move when requests, executions and commits happen,
 * and STAT over TCP, `/metrics` and `/stats` agree in the same instant
 * (spec: observability.md §1 "one set of measurements", http-api.md §8).
 */
import assert from "node:assert/strict";
import { waitFor } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { Api, FAR_BODY, FAR_NS } from "./_http.ts";
import { type Family, parseMetrics, scrape, valueOf } from "./_metrics.ts";

Deno.test("the metrics reader is strict: lines outside the format are refused", () => {
  const head = "# HELP x X\n# TYPE x gauge\n";
  assert.equal(
    parseMetrics(`${head}x{a="b\\"c"} 1.5e3\n`).get("x")!.samples[0]!.value,
    1500,
  );
  for (
    const bad of [
      "bad line here\n",
      `${head}x 1 2 3\n`,
      `${head}x{a="b} 1\n`,
      `${head}y 1\n`,
      `${head}x abc\n`,
      "x 1\n",
    ]
  ) {
    assert.throws(() => parseMetrics(bad), JSON.stringify(bad));
  }
});

/** Every counter and histogram count, by series. */
function counts(families: Map<string, Family>): Map<string, number> {
  const values = new Map<string, number>();
  for (const family of families.values()) {
    if (family.type === "gauge") continue;
    for (const sample of family.samples) {
      if (sample.name.endsWith("_bucket") || sample.name.endsWith("_sum")) {
        continue;
      }
      values.set(
        `${sample.name}${JSON.stringify(sample.labels)}`,
        sample.value,
      );
    }
  }
  return values;
}

function delta(
  before: Map<string, number>,
  after: Map<string, number>,
): Record<string, number> {
  const moved: Record<string, number> = {};
  for (const [key, value] of after) {
    const change = value - (before.get(key) ?? 0);
    if (change !== 0) moved[key] = change;
  }
  return moved;
}

Deno.test("counters move with HTTP and TCP requests, executions and commits — by exactly what happened", async () => {
  await using daemon = await startTestDaemon({ http: true });
  const api = new Api(daemon.httpPort);
  using tcp = await daemon.connect();
  const before = counts((await scrape(api)).families);
  // requests on both front doors
  assert.equal((await api.put("/jobs/a", FAR_BODY)).status, 200);
  assert.equal(await tcp.request(`r1 SET b ${FAR_NS}`), "r1 OK");
  assert.equal((await api.get("/jobs/a")).status, 200);
  assert.equal(await tcp.request("r2 GET b"), `r2 OK planned ${FAR_NS}`);
  assert.equal((await api.get("/jobs/absent")).status, 404);
  assert.equal((await api.get("/jobs?prefix=a")).status, 200);
  assert.equal((await api.delete("/jobs/b")).status, 204);
  assert.equal(
    (await api.put(
      "/rules/rule.ok",
      '{"pattern":"run.","runner":"shell","args":["true"]}',
    )).status,
    200,
  );
  assert.equal(
    await tcp.request("r3 RULE SET rule.ko fail. shell false"),
    "r3 OK",
  );
  assert.equal((await api.get("/rules")).status, 200);
  assert.equal((await api.get("/stats")).status, 200);
  // executions: one succeeds, one fails, one finds no rule
  for (const id of ["run.1", "fail.1", "none.1"]) {
    assert.equal(
      (await api.put(`/jobs/${id}`, '{"execution":"1970-01-01T00:00:00Z"}'))
        .status,
      200,
    );
  }
  // polled on /metrics, which counts no request
  await waitFor(async () => {
    const { families } = await scrape(api);
    const finished = valueOf(families, "ztick_executions_total", {
      runner: "shell",
      outcome: "executed",
    }) +
      valueOf(families, "ztick_executions_total", {
        runner: "shell",
        outcome: "failed",
      });
    return finished === 2 && valueOf(families, "ztick_no_rule_total") === 1 ||
      undefined;
  }, { what: "the executions" });
  const after = counts((await scrape(api)).families);
  const moved = delta(before, after);
  // 5 SET, 1 REMOVE, 2 RULE SET, and the status changes of the
  // executions: triggered then executed or failed, failed for no rule,
  // and a RUN record for each of the three (extensions.md §5)
  const records = 8 + 2 + 2 + 1 + 3;
  const commits = moved["ztick_journal_commits_total{}"]!;
  assert.ok(commits >= 1 && commits <= records, `${commits} group commits`);
  assert.deepEqual(moved, {
    'ztick_requests_total{"command":"SET","result":"ok"}': 5,
    'ztick_requests_total{"command":"GET","result":"ok"}': 2,
    'ztick_requests_total{"command":"GET","result":"error"}': 1,
    'ztick_requests_total{"command":"QUERY","result":"ok"}': 1,
    'ztick_requests_total{"command":"REMOVE","result":"ok"}': 1,
    'ztick_requests_total{"command":"RULE SET","result":"ok"}': 2,
    'ztick_requests_total{"command":"LISTRULES","result":"ok"}': 1,
    'ztick_requests_total{"command":"STAT","result":"ok"}': 1,
    "ztick_jobs_scheduled_total{}": 5,
    "ztick_jobs_removed_total{}": 1,
    'ztick_executions_total{"runner":"shell","outcome":"executed"}': 1,
    'ztick_executions_total{"runner":"shell","outcome":"failed"}': 1,
    'ztick_execution_duration_seconds_count{"runner":"shell"}': 2,
    "ztick_schedule_lag_seconds_count{}": 2,
    "ztick_no_rule_total{}": 1,
    "ztick_journal_commits_total{}": commits,
    "ztick_journal_records_total{}": records,
    "ztick_journal_commit_duration_seconds_count{}": commits,
  });
});

Deno.test("STAT over TCP, /metrics and /stats agree in the same instant", async () => {
  await using daemon = await startTestDaemon({ http: true });
  const api = new Api(daemon.httpPort);
  using tcp = await daemon.connect();
  await api.put(
    "/rules/rule.ok",
    '{"pattern":"run.","runner":"shell","args":["true"]}',
  );
  assert.equal(
    await tcp.request("r1 RULE SET rule.ko fail. shell false"),
    "r1 OK",
  );
  for (
    const line of [
      "SET run.1 1",
      "SET run.2 1",
      "SET fail.1 1",
      "SET none.1 1",
      `SET far.1 ${FAR_NS}`,
      `SET far.2 ${FAR_NS}`,
    ]
  ) {
    assert.equal(await tcp.request(`r2 ${line}`), "r2 OK");
  }
  // quiet: the executions done, no other TCP connection open
  const stat = async () =>
    new Map(
      (await tcp.request("r3 STAT")).split("\n").slice(0, -1).map((line) =>
        line.split(" ").slice(1) as [string, string]
      ),
    );
  await waitFor(async () => {
    const values = await stat();
    return values.get("jobs_executed") === "2" &&
        values.get("jobs_failed") === "2" &&
        values.get("connections") === "1" || undefined;
  }, { what: "a quiet daemon" });
  // STAT and a scrape sent at once, answered from the one registry
  const [statText, scraped, stats] = await Promise.all([
    tcp.request("r4 STAT"),
    scrape(api),
    api.get("/stats"),
  ]);
  const fromStat = new Map(
    statText.split("\n").slice(0, -1).map((line) =>
      line.split(" ").slice(1) as [string, string]
    ),
  );
  const { families } = scraped;
  const metric = (name: string, labels: Record<string, string> = {}) =>
    String(valueOf(families, name, labels));
  for (const status of ["planned", "triggered", "executed", "failed"]) {
    assert.equal(
      fromStat.get(`jobs_${status}`),
      metric("ztick_jobs", { status }),
      status,
    );
  }
  assert.deepEqual(
    [
      fromStat.get("jobs_total"),
      fromStat.get("jobs_planned"),
      fromStat.get("jobs_executed"),
      fromStat.get("jobs_failed"),
    ],
    ["6", "2", "2", "2"],
  );
  assert.equal(fromStat.get("rules_total"), "2");
  assert.equal(fromStat.get("rules_total"), metric("ztick_rules"));
  assert.equal(
    fromStat.get("connections"),
    metric("ztick_connections", { protocol: "tcp" }),
  );
  assert.equal(
    fromStat.get("executions_pending"),
    metric("ztick_executions_pending"),
  );
  assert.equal(
    fromStat.get("executions_inflight"),
    metric("ztick_executions_inflight"),
  );
  assert.equal(
    fromStat.get("persistence_writable"),
    metric("ztick_persistence_writable"),
  );
  assert.equal(
    fromStat.get("jobs_recurring"),
    metric("ztick_jobs_recurring"),
  );
  assert.equal(
    fromStat.get("version"),
    families.get("ztick_build_info")!.samples[0]!.labels.version,
  );
  const uptimeS = Number(fromStat.get("uptime_ns")) / 1e9;
  assert.ok(
    Math.abs(uptimeS - Number(metric("ztick_uptime_seconds"))) < 2,
    "the same uptime",
  );
  // /stats holds every STAT key, in STAT order, numbers as numbers
  const figures = JSON.parse(stats.body).stat as Record<string, unknown>;
  assert.deepEqual(Object.keys(figures), [...fromStat.keys()]);
  for (const [key, value] of fromStat) {
    if (key === "uptime_ns") continue;
    const expected = /^-?[0-9]+$/.test(value) ? Number(value) : value;
    assert.equal(figures[key], expected, key);
  }
});
