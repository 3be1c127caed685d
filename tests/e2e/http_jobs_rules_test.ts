/**
 * The jobs and rules rows of the HTTP API's endpoint table over real HTTP
 * against a real daemon: status, content type, security fields and exact
 * body bytes (spec: http-api.md §3, §4, §5; rule options and recurring
 * jobs come with later issues).
 */
import assert from "node:assert/strict";
import { startTestDaemon } from "../_helpers/daemon.ts";
import {
  Api,
  assertError,
  assertJson,
  assertNoContent,
  FAR_BODY,
  jobJson,
  ruleJson,
} from "./_http.ts";
Deno.test("PUT, GET and DELETE /jobs/{id}: 200 job object, 404 when absent, 204 with an empty body", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  assertError(await api.get("/jobs/deploy.v1"), 404, "not found", "GET absent");
  assertError(
    await api.delete("/jobs/deploy.v1"),
    404,
    "not found",
    "DELETE absent",
  );
  // the spec's example body, with a date that stays in the future
  assertJson(
    await api.put("/jobs/deploy.v1", FAR_BODY),
    200,
    jobJson("deploy.v1"),
  );
  assertJson(await api.get("/jobs/deploy.v1"), 200, jobJson("deploy.v1"));
  // replacing: status becomes planned again, execution is the new one
  assertJson(
    await api.put("/jobs/deploy.v1", '{"execution":"2100-01-01T00:00:00Z"}'),
    200,
    jobJson("deploy.v1", "4102444800000000000"),
  );
  assertNoContent(await api.delete("/jobs/deploy.v1"));
  assertError(
    await api.get("/jobs/deploy.v1"),
    404,
    "not found",
    "GET removed",
  );
});

Deno.test("PUT /jobs/{id} ignores unknown fields and answers 400 invalid json to a bad body", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  assertJson(
    await api.put(
      "/jobs/a",
      `{"note":"x","execution":"2099-04-10T12:00:00Z","n":[1,{}]}`,
    ),
    200,
    jobJson("a"),
  );
  for (
    const body of ["", "{", "null", "[]", '"x"', "{}", '{"execution":null}']
  ) {
    assertError(await api.put("/jobs/a", body), 400, "invalid json", body);
  }
});

Deno.test("GET /jobs?prefix= is an array of job objects, [] when none", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  assertJson(await api.get("/jobs"), 200, "[]");
  await api.putJob("deploy.v1");
  await api.putJob("deploy.v2");
  await api.putJob("backup.daily");
  assertJson(
    await api.get("/jobs?prefix=backup."),
    200,
    `[${jobJson("backup.daily")}]`,
  );
  assertJson(await api.get("/jobs?prefix=nothing"), 200, "[]");
  for (const query of ["", "?prefix=", "?"]) {
    const all = JSON.parse((await api.get(`/jobs${query}`)).body);
    assert.deepEqual(
      all.map((job: { id: string }) => job.id).sort(),
      ["backup.daily", "deploy.v1", "deploy.v2"],
      `GET /jobs${query}`,
    );
  }
  const deploys = JSON.parse((await api.get("/jobs?prefix=deploy.")).body);
  assert.deepEqual(
    deploys.map((job: { id: string }) => job.id).sort(),
    ["deploy.v1", "deploy.v2"],
  );
});

Deno.test("PUT and DELETE /rules/{id}: 200 rule summary for each runner, 204, 404 when absent", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  const rules: [string, string][] = [
    ["direct", '["/opt/deploy/notify","--channel","ops"]'],
    ["shell", '["echo hi"]'],
    ["awf", '["deploy","--input","env=prod","--input","a=b"]'],
    ["http", '["POST","https://hooks.example.com/ztick"]'],
  ];
  for (const [runner, args] of rules) {
    assertJson(
      await api.put(
        `/rules/rule.${runner}`,
        `{"pattern":"deploy.","runner":"${runner}","args":${args}}`,
      ),
      200,
      ruleJson(`rule.${runner}`, "deploy.", runner),
      runner,
    );
  }
  // the pattern may be empty
  assertJson(
    await api.put(
      "/rules/all",
      '{"pattern":"","runner":"shell","args":["true"]}',
    ),
    200,
    ruleJson("all", "", "shell"),
  );
  assertNoContent(await api.delete("/rules/all"));
  assertError(await api.delete("/rules/all"), 404, "not found");
});

Deno.test("PUT /rules/{id} answers the runner messages and invalid json", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  const cases: [string, string][] = [
    [
      '{"pattern":"a","runner":"shell","args":[]}',
      "invalid shell runner arguments",
    ],
    [
      '{"pattern":"a","runner":"shell","args":["a","b"]}',
      "invalid shell runner arguments",
    ],
    [
      '{"pattern":"a","runner":"shell","args":[""]}',
      "invalid shell runner arguments",
    ],
    [
      '{"pattern":"a","runner":"direct","args":[]}',
      "invalid direct runner arguments",
    ],
    [
      '{"pattern":"a","runner":"direct","args":[""]}',
      "invalid direct runner arguments",
    ],
    ['{"pattern":"a","runner":"awf","args":[]}', "missing workflow argument"],
    [
      '{"pattern":"a","runner":"http","args":["POST"]}',
      "invalid http runner arguments",
    ],
    [
      '{"pattern":"a","runner":"http","args":["POST","ftp://x/"]}',
      "invalid http runner arguments",
    ],
    [
      '{"pattern":"a","runner":"amqp","args":["amqp://h/","ex","key"]}',
      "unsupported runner type",
    ],
    [
      '{"pattern":"a","runner":"redis","args":["redis://h/","LPUSH","k"]}',
      "unsupported runner type",
    ],
    [
      '{"pattern":"a","runner":"toString","args":[]}',
      "unsupported runner type",
    ],
    [
      '{"pattern":"a","runner":"SHELL","args":["x"]}',
      "unsupported runner type",
    ],
    ['{"runner":"shell","args":["x"]}', "invalid json"],
    ['{"pattern":"a","args":["x"]}', "invalid json"],
    ['{"pattern":"a","runner":"shell"}', "invalid json"],
    ['{"pattern":1,"runner":"shell","args":["x"]}', "invalid json"],
    ['{"pattern":"a","runner":"shell","args":"x"}', "invalid json"],
    ['{"pattern":"a","runner":"shell","args":[1]}', "invalid json"],
    ['{"pattern":"a","runner":["shell"],"args":["x"]}', "invalid json"],
    ["[]", "invalid json"],
    ["{", "invalid json"],
  ];
  for (const [body, message] of cases) {
    assertError(await api.put("/rules/r", body), 400, message, body);
  }
  assertJson(await api.get("/rules"), 200, "[]");
});

Deno.test("GET /rules?prefix= lists rule summaries, filtering rule ids", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  assertJson(await api.get("/rules"), 200, "[]");
  await api.put(
    "/rules/deploy-notify",
    '{"pattern":"deploy.","runner":"direct","args":["/bin/true"]}',
  );
  await api.put(
    "/rules/backup",
    '{"pattern":"deploy.","runner":"shell","args":["true"]}',
  );
  // prefix filters ids, not patterns
  assertJson(
    await api.get("/rules?prefix=deploy"),
    200,
    `[${ruleJson("deploy-notify", "deploy.", "direct")}]`,
  );
  assertJson(await api.get("/rules?prefix=x"), 200, "[]");
  const all = JSON.parse((await api.get("/rules")).body);
  assert.deepEqual(all.map((rule: { id: string }) => rule.id).sort(), [
    "backup",
    "deploy-notify",
  ]);
});
