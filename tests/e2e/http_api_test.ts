/**
 * The HTTP API's endpoints besides jobs and rules (health, OpenAPI,
 * metrics, stats, dashboard) and the "other methods" rules of its endpoint
 * table, over real HTTP against a real daemon: status, content type,
 * security fields and exact body bytes (spec: http-api.md §3, §5; the rows
 * of later issues, such as `/executions`, are left out).
 */
import assert from "node:assert/strict";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { VERSION } from "../../src/version.ts";
import {
  Api,
  assertError,
  assertJson,
  assertSecurityFields,
  FAR_BODY,
  jobJson,
} from "./_http.ts";

Deno.test('GET /health is 200 {"status":"ok"}; other methods 405', async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  assertJson(await api.get("/health"), 200, '{"status":"ok"}');
  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    assertError(
      await api.send(method, "/health"),
      405,
      "method not allowed",
      method,
    );
  }
});

Deno.test("GET /health/leader is 200 role single without a cluster; other methods 405", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  assertJson(
    await api.get("/health/leader"),
    200,
    '{"status":"ok","role":"single"}',
  );
  assertError(
    await api.send("POST", "/health/leader"),
    405,
    "method not allowed",
  );
});

Deno.test("GET /openapi.json is the OpenAPI 3.1 document with the product version; other methods 405", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  const response = await api.get("/openapi.json");
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  assertSecurityFields(response);
  const document = JSON.parse(response.body);
  assert.equal(document.openapi, "3.1.0");
  assert.equal(document.info.version, VERSION);
  assert.equal(
    VERSION,
    JSON.parse(
      await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
    ).version,
  );
  assertError(
    await api.send("PUT", "/openapi.json", { body: "{}" }),
    405,
    "method not allowed",
  );
});

Deno.test("GET /metrics and GET /stats are 200 in their formats; other methods 405", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  const metrics = await api.get("/metrics");
  assert.equal(metrics.status, 200);
  assert.equal(
    metrics.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  assertSecurityFields(metrics);
  assert.match(metrics.body, /^# HELP ztick_build_info /);
  const stats = await api.get("/stats");
  assert.equal(stats.status, 200);
  assert.equal(stats.headers.get("content-type"), "application/json");
  assert.deepEqual(Object.keys(JSON.parse(stats.body)), [
    "stat",
    "executions_per_minute",
    "upcoming_per_hour",
    "lag_ms",
  ]);
  for (const path of ["/metrics", "/stats"]) {
    for (const method of ["POST", "PUT", "DELETE"]) {
      assertError(
        await api.send(method, path),
        405,
        "method not allowed",
        `${method} ${path}`,
      );
    }
  }
});

const TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

Deno.test("GET / and GET /ui/<file> serve the dashboard with CSP and nosniff; unknown assets 404, other methods 405", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  const page = await api.get("/");
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assertSecurityFields(page);
  assert.doesNotMatch(page.body, /(?:src|href)="(?:https?:)?\/\//);
  // the page's assets and the modules they import, all under /ui/
  const seen = new Set<string>();
  const queue = [...page.body.matchAll(/(?:src|href)="\/?(ui\/[^"]+)"/g)]
    .map((match) => `/${match[1]}`);
  for (let asset = queue.shift(); asset !== undefined; asset = queue.shift()) {
    if (seen.has(asset)) continue;
    seen.add(asset);
    const response = await api.get(asset);
    assert.equal(response.status, 200, asset);
    assertSecurityFields(response, asset);
    const type = response.headers.get("content-type");
    assert.equal(type, TYPES[asset.slice(asset.lastIndexOf("."))], asset);
    if (!asset.endsWith(".js")) continue;
    const dir = asset.slice(0, asset.lastIndexOf("/") + 1);
    for (const [, relative] of response.body.matchAll(/from "\.\/([^"]+)"/g)) {
      queue.push(dir + relative);
    }
  }
  assert.ok(seen.has("/ui/app.js") && seen.size > 3, [...seen].join(" "));
  assertError(await api.get("/ui/nothing.js"), 404, "not found");
  assertError(await api.get("/ui/"), 404, "not found");
  assertError(await api.send("POST", "/"), 405, "method not allowed");
  assertError(
    await api.send("DELETE", "/ui/app.js"),
    405,
    "method not allowed",
  );
});

Deno.test("other methods: 405 on /jobs, /rules and /jobs/{id}, 404 on /rules/{id}", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  await api.putJob("a");
  await api.put("/rules/r", '{"pattern":"a","runner":"shell","args":["true"]}');
  for (
    const method of ["POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get"]
  ) {
    const body = method === "HEAD" ? "" : '{"error":"method not allowed"}';
    for (const path of ["/jobs", "/rules", "/jobs/a", "/jobs/absent"]) {
      if (method === "PUT" && path.startsWith("/jobs/")) continue;
      if (method === "DELETE" && path.startsWith("/jobs/")) continue;
      const response = await api.send(method, path);
      assert.equal(response.status, 405, `${method} ${path}`);
      assert.equal(response.body, body, `${method} ${path}`);
    }
  }
  for (const method of ["GET", "POST", "PATCH", "OPTIONS"]) {
    for (const path of ["/rules/r", "/rules/absent"]) {
      assertError(
        await api.send(method, path),
        404,
        "not found",
        `${method} ${path}`,
      );
    }
  }
  // the rule and the job are still there
  assertJson(await api.get("/jobs/a"), 200, jobJson("a"));
  assert.equal(JSON.parse((await api.get("/rules")).body).length, 1);
});

Deno.test("an empty id is 400 missing resource id; any other path is 404 not found", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  for (const method of ["GET", "PUT", "DELETE", "POST"]) {
    for (const path of ["/jobs/", "/rules/"]) {
      assertError(
        await api.send(method, path, { body: FAR_BODY }),
        400,
        "missing resource id",
        `${method} ${path}`,
      );
    }
  }
  for (
    const path of [
      "/nothing",
      "/jobs2",
      "/Jobs/a",
      "/health/",
      "/openapi",
      "/rules2/a",
      "//jobs/a",
      "/metrics/x",
    ]
  ) {
    assertError(await api.get(path), 404, "not found", path);
    assertError(await api.send("POST", path), 404, "not found", `POST ${path}`);
  }
});

Deno.test("HEAD is answered like the other methods it is not: 405 with no body", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  for (const path of ["/health", "/openapi.json", "/jobs", "/metrics", "/"]) {
    const response = await api.send("HEAD", path);
    assert.equal(response.status, 405, path);
    assert.equal(response.headers.get("content-length"), "30", path);
    assert.equal(response.bytes.length, 0, path);
  }
  const rule = await api.send("HEAD", "/rules/x");
  assert.equal(rule.status, 404);
  assert.equal(rule.headers.get("content-length"), "21");
});
