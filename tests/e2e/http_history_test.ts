/**
 * The HTTP side of retries and history against a real daemon: rule
 * `options` in PUT /rules and the summaries, `attempt` in job objects,
 * `GET /executions?job=` and `?failed=1&limit=` with exact bytes, every bad
 * query, the namespace (403 before 404) and the wrong methods (spec:
 * http-api.md §3, §4, §7; extensions.md §1–§3).
 */
import assert from "node:assert/strict";
import { converse, waitFor } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { ADMIN_SECRET, DEPLOY_SECRET } from "./_security.ts";
import {
  Api,
  assertError,
  assertJson,
  authHttpDaemon,
  FAR_BODY,
  ruleJson,
} from "./_http.ts";

interface RunObject {
  job: string;
  attempt: number;
  started: number;
  ended: number;
  outcome: string;
  rule: string;
  detail: string;
  message: string;
}

/** The runs of a 200 answer, with the exact integers checked as text. */
function runsOf(body: string): RunObject[] {
  assert.match(body, /^\[.*\]$/);
  for (const match of body.matchAll(/"(started|ended)":([^,}]+)/g)) {
    assert.match(match[2]!, /^[0-9]{19}$/, "times are exact integers");
  }
  return JSON.parse(body) as RunObject[];
}

/** Polls GET /executions?job= until it holds `count` runs. */
async function runsOfJob(
  api: Api,
  job: string,
  count: number,
): Promise<RunObject[]> {
  return await waitFor(async () => {
    const response = await api.get(`/executions?job=${job}`);
    assert.equal(response.status, 200, response.body);
    const runs = runsOf(response.body);
    return runs.length >= count ? runs : undefined;
  }, { what: `${count} runs of ${job}` });
}

Deno.test("PUT /rules with options: canonical options in the summary, GET /rules and LISTRULES; none without", async () => {
  await using daemon = await startTestDaemon({ http: true });
  const api = new Api(daemon.httpPort);
  const hook = JSON.stringify({
    pattern: "hook.",
    runner: "http",
    args: ["POST", "http://127.0.0.1:9/"],
    options: { retries: 5, backoff: "30000ms", timeout: "120s" },
  });
  const summary =
    '{"id":"rule.hook","pattern":"hook.","runner":"http","options":{"retries":5,"backoff":"30s","timeout":"2m"}}';
  assertJson(await api.put("/rules/rule.hook", hook), 200, summary);
  assertJson(await api.get("/rules?prefix=rule.hook"), 200, `[${summary}]`);
  const plain = '{"pattern":"p.","runner":"shell","args":["true"]}';
  const empty =
    '{"pattern":"e.","runner":"shell","args":["true"],"options":{}}';
  assertJson(
    await api.put("/rules/r.plain", plain),
    200,
    ruleJson("r.plain", "p.", "shell"),
  );
  assertJson(
    await api.put("/rules/r.empty", empty),
    200,
    ruleJson("r.empty", "e.", "shell"),
  );
  const lines = (await converse(daemon.port, "r1 LISTRULES\n")).split("\n")
    .sort();
  assert.deepEqual(lines, [
    "",
    "r1 OK",
    "r1 r.empty e. shell true",
    "r1 r.plain p. shell true",
    "r1 rule.hook hook. retries=5 backoff=30s timeout=2m http POST http://127.0.0.1:9/",
  ]);
});

Deno.test("PUT /rules answers 400 invalid rule options to every bad options value, and stores nothing", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  const bad: unknown[] = [
    [],
    "retries=3",
    5,
    null,
    { retries: "3" },
    { retries: -1 },
    { retries: 1.5 },
    { retries: 101 },
    { backoff: 30 },
    { backoff: "0s" },
    { backoff: "" },
    { timeout: "2 m" },
    { timeout: "-1s" },
    { max_backoff: "5s" },
    { backoff: "1m", max_backoff: "30s" },
    { retry: 3 },
  ];
  for (const options of bad) {
    const body = JSON.stringify({
      pattern: "p.",
      runner: "shell",
      args: ["true"],
      options,
    });
    assertError(
      await api.put("/rules/r.bad", body),
      400,
      "invalid rule options",
      body,
    );
  }
  assertJson(await api.get("/rules"), 200, "[]");
});

Deno.test("GET /executions?job=: a failed shell run with its stderr (credentials redacted), then the retry's attempt in the job object", async () => {
  await using daemon = await startTestDaemon({ http: true });
  const api = new Api(daemon.httpPort);
  const command =
    "echo 'rsync: connect to postgres://backup:s3cret@db.internal/x refused' >&2; exit 3";
  const rule = JSON.stringify({
    pattern: "backup.",
    runner: "shell",
    args: [command],
    options: { retries: 1, backoff: "1h" },
  });
  assert.equal((await api.put("/rules/rule.backup", rule)).status, 200);
  assertJson(
    await api.get("/executions?job=backup.daily"),
    404,
    '{"error":"not found"}',
  );
  await api.putJob("backup.daily", '{"execution":"2001-01-01T00:00:00Z"}');
  const [run] = await runsOfJob(api, "backup.daily", 1);
  assert.deepEqual({ ...run!, started: 0, ended: 0 }, {
    job: "backup.daily",
    attempt: 1,
    started: 0,
    ended: 0,
    outcome: "failed",
    rule: "rule.backup",
    detail: "exit:3",
    message:
      "exited with code 3: rsync: connect to postgres://db.internal/x refused",
  });
  assert.ok(run!.ended >= run!.started);
  // the retry waits an hour: planned again, attempt 2, in the job object
  const job = await waitFor(async () => {
    const response = await api.get("/jobs/backup.daily");
    return response.body.includes('"status":"planned"') ? response : undefined;
  }, { what: "the retry planned" });
  assert.match(
    job.body,
    /^\{"id":"backup\.daily","status":"planned","execution":[0-9]{19},"attempt":2\}$/,
  );
  assertJson(
    await api.get("/jobs?prefix=backup.&limit=1"),
    200,
    `[${job.body}]`,
  );
  // a fresh SET starts over: attempt 1, no attempt field
  await api.putJob("backup.daily", FAR_BODY);
  assert.doesNotMatch((await api.get("/jobs/backup.daily")).body, /attempt/);
});

Deno.test("GET /executions?failed=1: the latest failed runs of all jobs, newest first by end, limit 1–1000 (default 50)", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
    concurrency: 1,
  });
  const api = new Api(daemon.httpPort);
  const rule = '{"pattern":"f.","runner":"shell","args":["exit 2"]}';
  await api.put("/rules/r.f", rule);
  await api.put(
    "/rules/r.ok",
    '{"pattern":"ok.","runner":"shell","args":["true"]}',
  );
  for (const id of ["f.1", "ok.1", "f.2", "nothing.1", "f.3"]) {
    await api.putJob(id, '{"execution":"2001-01-01T00:00:00Z"}');
    await runsOfJob(api, id, 1);
  }
  const all = runsOf((await api.get("/executions?failed=1")).body);
  assert.deepEqual(all.map((run) => [run.job, run.detail]), [
    ["f.3", "exit:2"],
    ["nothing.1", "no-rule"],
    ["f.2", "exit:2"],
    ["f.1", "exit:2"],
  ]);
  for (let i = 1; i < all.length; i++) {
    assert.ok(all[i - 1]!.ended >= all[i]!.ended, "newest first");
  }
  const two = runsOf((await api.get("/executions?failed=1&limit=2")).body);
  assert.deepEqual(two.map((run) => run.job), ["f.3", "nothing.1"]);
  const most = await api.get("/executions?limit=1000&failed=1");
  assert.equal(runsOf(most.body).length, 4);
});

Deno.test("GET /executions: 400 invalid query for neither, both, a bad failed or limit, an empty or repeated job; 405 for other methods", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  await api.putJob("j.1");
  assertJson(await api.get("/executions?job=j.1"), 200, "[]");
  for (
    const query of [
      "",
      "?limit=5",
      "?job=j.1&failed=1",
      "?failed=0",
      "?failed=true",
      "?failed=",
      "?failed=1&limit=0",
      "?failed=1&limit=1001",
      "?failed=1&limit=abc",
      "?failed=1&limit=-1",
      "?failed=1&limit=",
      "?job=",
      "?job=j.1&limit=5",
      "?job=j.1&job=j.2",
      "?failed=1&failed=1",
      "?job=%ZZ",
    ]
  ) {
    assertError(
      await api.get(`/executions${query}`),
      400,
      "invalid query",
      query,
    );
  }
  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    assertError(
      await api.send(method, "/executions?job=j.1", { body: "{}" }),
      405,
      "method not allowed",
      method,
    );
  }
  assertError(await api.get("/executions/j.1"), 404, "not found");
});

Deno.test("GET /executions with a token: 403 outside the namespace before 404, failed runs only of jobs inside it", async () => {
  await using auth = await authHttpDaemon();
  const { daemon } = auth;
  const admin = new Api(daemon.httpPort, ADMIN_SECRET);
  const deploy = admin.as(DEPLOY_SECRET);
  assertError(
    await new Api(daemon.httpPort).get("/executions?failed=1"),
    401,
    "unauthorized",
  );
  for (const id of ["deploy.v1", "other.v1"]) {
    await admin.putJob(id, '{"execution":"2001-01-01T00:00:00Z"}');
    await runsOfJob(admin, id, 1); // no rule: a no-rule run each
  }
  assertError(await deploy.get("/executions?job=other.v1"), 403, "forbidden");
  assertError(
    await deploy.get("/executions?job=other.none"),
    403,
    "forbidden",
  );
  assertError(
    await deploy.get("/executions?job=deploy.none"),
    404,
    "not found",
  );
  assert.equal(
    runsOf((await deploy.get("/executions?job=deploy.v1")).body).length,
    1,
  );
  const failed = runsOf((await deploy.get("/executions?failed=1")).body);
  assert.deepEqual(failed.map((run) => run.job), ["deploy.v1"]);
  const everything = runsOf((await admin.get("/executions?failed=1")).body);
  assert.deepEqual(everything.map((run) => run.job).sort(), [
    "deploy.v1",
    "other.v1",
  ]);
});
