/**
 * Bearer authentication on the HTTP API with an auth file: 401 before
 * routing, the public endpoints, the token's namespace on every method and
 * in lists, the delay after a wrong token and the throttle of a guessing
 * host (spec: http-api.md §2, protocol.md §9).
 */
import assert from "node:assert/strict";
import { writeFile } from "../_helpers/fs.ts";
import { ADMIN_SECRET, DEPLOY_SECRET, SPACED_SECRET } from "./_security.ts";
import {
  Api,
  assertError,
  assertJson,
  assertNoContent,
  authHttpDaemon,
  FAR_BODY,
  jobJson,
  ruleJson,
} from "./_http.ts";
import type { RawResponse } from "../_helpers/http_client.ts";

function assertUnauthorized(response: RawResponse, what: string): void {
  assertError(response, 401, "unauthorized", what);
  assert.equal(response.headers.get("www-authenticate"), "Bearer", what);
}

Deno.test("without a token: 401 unauthorized with WWW-Authenticate: Bearer, before routing", async () => {
  await using auth = await authHttpDaemon();
  const { api } = auth;
  const requests: [string, string][] = [
    ["GET", "/jobs"],
    ["PUT", "/jobs/deploy.x"],
    ["DELETE", "/jobs/deploy.x"],
    ["GET", "/rules"],
    ["GET", "/metrics"],
    ["GET", "/stats"],
    ["GET", "/nothing"], // would be 404
    ["POST", "/jobs"], // would be 405
    ["GET", "/jobs/"], // would be 400
    ["POST", "/health"], // only GET /health is public
  ];
  for (const [method, path] of requests) {
    const body = method === "PUT" ? FAR_BODY : undefined;
    assertUnauthorized(
      await api.send(method, path, body ? { body } : {}),
      `${method} ${path}`,
    );
  }
  assertJson(
    await api.as(ADMIN_SECRET).get("/jobs"),
    200,
    "[]",
    "nothing was stored",
  );
});

Deno.test("a wrong token or another scheme is 401; the scheme is case-insensitive, secrets may hold spaces", async () => {
  await using auth = await authHttpDaemon();
  const { api } = auth;
  const wrong = [
    `Bearer ${DEPLOY_SECRET}x`,
    `Bearer ${DEPLOY_SECRET.slice(0, -1)}`,
    "Bearer ",
    "Bearer",
    `Basic ${btoa(`u:${DEPLOY_SECRET}`)}`,
    DEPLOY_SECRET,
  ];
  for (const authorization of wrong) {
    assertUnauthorized(
      await api.send("GET", "/jobs", { headers: { authorization } }),
      authorization,
    );
  }
  for (
    const authorization of [
      `bearer ${DEPLOY_SECRET}`,
      `BEARER ${DEPLOY_SECRET}`,
      `Bearer ${SPACED_SECRET}`,
    ]
  ) {
    assertJson(
      await api.send("GET", "/jobs", { headers: { authorization } }),
      200,
      "[]",
      authorization,
    );
  }
});

Deno.test("the public endpoints need no token, and a wrong one does not hurt", async () => {
  await using auth = await authHttpDaemon();
  for (const api of [auth.api, auth.api.as("wrong")]) {
    assertJson(await api.get("/health"), 200, '{"status":"ok"}');
    assertJson(
      await api.get("/health/leader"),
      200,
      '{"status":"ok","role":"single"}',
    );
    assert.equal((await api.get("/openapi.json")).status, 200);
    assert.equal((await api.get("/")).status, 200);
    assert.equal((await api.get("/ui/app.js")).status, 200);
    assertError(await api.get("/ui/nothing.js"), 404, "not found");
  }
});

Deno.test("a wrong token is answered only after a delay and counted in ztick_auth_failures_total", async () => {
  await using auth = await authHttpDaemon();
  const admin = auth.api.as(ADMIN_SECRET);
  const failures = async () =>
    Number(
      /^ztick_auth_failures_total (\d+)$/m.exec(
        (await admin.get("/metrics")).body,
      )?.[1],
    );
  assert.equal(await failures(), 0);
  for (const token of ["guess", undefined]) {
    const started = performance.now();
    assertUnauthorized(await auth.api.as(token).get("/jobs"), String(token));
    const elapsed = performance.now() - started;
    assert.ok(
      elapsed >= 200,
      `a refusal answered after ${elapsed.toFixed(0)} ms`,
    );
  }
  assert.equal(await failures(), 2);
  assertJson(await admin.get("/jobs"), 200, "[]");
  assert.equal(await failures(), 2, "a right token is not a failure");
});

Deno.test("outside the token's namespace: 403 forbidden for every method, whether or not the item exists", async () => {
  await using auth = await authHttpDaemon();
  const admin = auth.api.as(ADMIN_SECRET);
  const deploy = auth.api.as(DEPLOY_SECRET);
  await admin.putJob("other.x");
  await admin.put(
    "/rules/other.r",
    '{"pattern":"other.","runner":"shell","args":["true"]}',
  );
  for (
    const path of [
      "/jobs/other.x",
      "/jobs/other.absent",
      "/jobs/deployX",
      "/jobs/deploy",
      "/jobs/Deploy.x",
    ]
  ) {
    for (const method of ["PUT", "GET", "DELETE", "POST", "PATCH"]) {
      const response = await deploy.send(method, path, { body: FAR_BODY });
      assertError(response, 403, "forbidden", `${method} ${path}`);
    }
  }
  for (const path of ["/rules/other.r", "/rules/other.absent"]) {
    for (const method of ["PUT", "DELETE", "GET", "POST"]) {
      const body = '{"pattern":"deploy.","runner":"shell","args":["true"]}';
      assertError(
        await deploy.send(method, path, { body }),
        403,
        "forbidden",
        `${method} ${path}`,
      );
    }
  }
  // a rule id inside with a pattern outside (the empty pattern matches every job)
  for (const pattern of ["other.", "", "deploy"]) {
    const body = `{"pattern":"${pattern}","runner":"shell","args":["true"]}`;
    assertError(
      await deploy.put("/rules/deploy.r", body),
      403,
      "forbidden",
      pattern,
    );
  }
  // nothing changed
  assertJson(await admin.get("/jobs"), 200, `[${jobJson("other.x")}]`);
  assertJson(
    await admin.get("/rules"),
    200,
    `[${ruleJson("other.r", "other.", "shell")}]`,
  );
});

Deno.test("inside the token's namespace every endpoint works; ids are not normalised to escape it", async () => {
  await using auth = await authHttpDaemon();
  const deploy = auth.api.as(DEPLOY_SECRET);
  assertJson(
    await deploy.put("/jobs/deploy%2Ev1", FAR_BODY),
    200,
    jobJson("deploy.v1"),
  );
  assertJson(await deploy.get("/jobs/deploy.v1"), 200, jobJson("deploy.v1"));
  // "deploy./../other.x" is an id that starts with "deploy.", not a path
  assertJson(
    await deploy.put("/jobs/deploy./../other.x", FAR_BODY),
    200,
    jobJson("deploy./../other.x"),
  );
  assertError(await deploy.get("/jobs/other.x"), 403, "forbidden");
  assertError(
    await auth.api.as(ADMIN_SECRET).get("/jobs/other.x"),
    404,
    "not found",
  );
  const rule = '{"pattern":"deploy.","runner":"shell","args":["true"]}';
  assertJson(
    await deploy.put("/rules/deploy.r", rule),
    200,
    ruleJson("deploy.r", "deploy.", "shell"),
  );
  assertNoContent(await deploy.delete("/rules/deploy.r"));
  assertNoContent(await deploy.delete("/jobs/deploy./../other.x"));
  assertError(await deploy.get("/jobs/deploy.absent"), 404, "not found");
});

Deno.test("lists only hold items inside the namespace; /metrics and /stats are daemon-wide", async () => {
  await using auth = await authHttpDaemon();
  const admin = auth.api.as(ADMIN_SECRET);
  const deploy = auth.api.as(DEPLOY_SECRET);
  for (const id of ["deploy.a", "deploy.b", "other.a", "deployX", "spaced.a"]) {
    await admin.putJob(id);
  }
  for (const id of ["deploy.r", "other.r"]) {
    await admin.put(
      `/rules/${id}`,
      `{"pattern":"${id.split(".")[0]}.","runner":"shell","args":["true"]}`,
    );
  }
  const ids = async (api: Api, query: string) =>
    JSON.parse((await api.get(query)).body).map((item: { id: string }) =>
      item.id
    ).sort();
  assert.deepEqual(await ids(deploy, "/jobs"), ["deploy.a", "deploy.b"]);
  assert.deepEqual(await ids(deploy, "/jobs?prefix=other."), []);
  assert.deepEqual(await ids(deploy, "/jobs?prefix=deploy"), [
    "deploy.a",
    "deploy.b",
  ]);
  assert.deepEqual(await ids(deploy, "/jobs?limit=1"), ["deploy.a"]);
  assert.deepEqual(await ids(deploy, "/jobs?after=deploy.a"), ["deploy.b"]);
  assert.deepEqual(await ids(deploy, "/jobs?status=planned&after=a"), [
    "deploy.a",
    "deploy.b",
  ]);
  assert.deepEqual(await ids(deploy, "/rules"), ["deploy.r"]);
  assert.deepEqual(await ids(admin, "/jobs"), [
    "deploy.a",
    "deploy.b",
    "deployX",
    "other.a",
    "spaced.a",
  ]);
  assert.deepEqual(await ids(auth.api.as(SPACED_SECRET), "/jobs"), [
    "spaced.a",
  ]);
  assert.match(
    (await deploy.get("/metrics")).body,
    /^ztick_jobs\{status="planned"\} 5$/m,
  );
  assert.equal(
    JSON.parse((await deploy.get("/stats")).body).stat.jobs_total,
    5,
  );
});

Deno.test("a reload of the auth file applies to new HTTP requests", async () => {
  await using auth = await authHttpDaemon();
  await writeFile(
    auth.authFile,
    `[token.new]\nsecret = "sk_new_0000"\nnamespace = "*"\n`,
  );
  await auth.daemon.daemon.reload();
  assertJson(await auth.api.as("sk_new_0000").get("/jobs"), 200, "[]");
  assertUnauthorized(
    await auth.api.as(ADMIN_SECRET).get("/jobs"),
    "the old token",
  );
});
