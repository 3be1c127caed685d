/**
 * Recurring jobs over HTTP against a real daemon: PUT /jobs/{id} with
 * `cron`, `tz`, `catchup`, the job object's recurring fields, every bad
 * body, and the same job through the protocol (spec: http-api.md §4,
 * extensions.md §4).
 */
import assert from "node:assert/strict";
import { converse } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { Api, assertError, assertJson, FAR_BODY } from "./_http.ts";

/** 2026-04-01T02:00:00Z, 04:00 in Paris (CEST). */
const T0 = 1_775_008_800_000_000_000n;
/** 02:30 in Paris the next day. */
const NIGHTLY = T0 + (22n * 3600n + 30n * 60n) * 1_000_000_000n;
const clock = { nowNs: () => T0 };

Deno.test("PUT /jobs/{id} with cron, tz and catchup stores a recurring job; its object shows them; CRON and GET agree", async () => {
  await using d = await startTestDaemon({ http: true, clock });
  const api = new Api(d.httpPort);
  const nightly =
    `{"id":"backup.nightly","status":"planned","execution":${NIGHTLY},"cron":"30 2 * * *","tz":"Europe/Paris","catchup":"once"}`;
  assertJson(
    await api.put(
      "/jobs/backup.nightly",
      '{"cron":"30  2 * * *","tz":"Europe/Paris"}',
    ),
    200,
    nightly,
  );
  assertJson(await api.get("/jobs/backup.nightly"), 200, nightly);
  assert.equal(
    await converse(
      d.port,
      "a GET backup.nightly\nb CRON report.weekly @weekly catchup=skip\n",
    ),
    `a OK planned ${NIGHTLY}\nb OK\n`,
  );
  // the next Sunday midnight UTC after Wednesday 2026-04-01
  const sunday = T0 + (4n * 24n - 2n) * 3600n * 1_000_000_000n;
  assertJson(
    await api.get("/jobs?prefix=report."),
    200,
    `[{"id":"report.weekly","status":"planned","execution":${sunday},"cron":"@weekly","tz":"UTC","catchup":"skip"}]`,
  );
  // a PUT with execution makes it one-shot again
  await api.putJob("backup.nightly", FAR_BODY);
  const plain = await api.get("/jobs/backup.nightly");
  assert.doesNotMatch(plain.body, /cron/);
  assert.match(await converse(d.port, "s STAT\n"), /\ns jobs_recurring 1\n/);
  const metrics = await api.get("/metrics");
  assert.match(metrics.body, /^ztick_jobs_recurring 1$/m);
  assert.match(
    metrics.body,
    /^ztick_requests_total\{command="CRON",result="ok"\} 2$/m,
    "a PUT with cron and the CRON request",
  );
});

Deno.test("PUT /jobs/{id}: a bad cron body is 400 invalid json and stores nothing", async () => {
  await using d = await startTestDaemon({ http: true, clock });
  const api = new Api(d.httpPort);
  for (
    const body of [
      '{"cron":"0 2 * * *","execution":"2099-04-10T12:00:00Z"}',
      "{}",
      '{"cron":""}',
      '{"cron":5}',
      '{"cron":"0 0 L * *"}',
      '{"cron":"@reboot"}',
      '{"cron":"0 0 30 2 *"}',
      '{"cron":"@daily","tz":"Mars/Olympus"}',
      '{"cron":"@daily","tz":""}',
      '{"cron":"@daily","tz":1}',
      '{"cron":"@daily","catchup":"never"}',
      '{"cron":"@daily","catchup":""}',
      '{"cron":null}',
    ]
  ) {
    assertError(await api.put("/jobs/c.1", body), 400, "invalid json", body);
  }
  assertError(await api.get("/jobs/c.1"), 404, "not found");
});
