/**
 * `GET /openapi.json` checked by a real OpenAPI 3.1 validator from npm
 * (@readme/openapi-parser, a test-only dependency), and against what the
 * daemon serves: every operation that is served is in the document and
 * every documented one is served, with a documented status, content type
 * and security (spec: http-api.md §2, §3).
 */
import assert from "node:assert/strict";
import { validate } from "npm:@readme/openapi-parser@9.0.0";
import { startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { VERSION } from "../../src/version.ts";
import { Api, authHttpDaemon, FAR_BODY, FAR_NS } from "./_http.ts";
import { ADMIN_SECRET } from "./_security.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const METHODS = [
  "get",
  "put",
  "post",
  "delete",
  "patch",
  "head",
  "options",
  "trace",
];
const RULE_BODY = '{"pattern":"probe","runner":"shell","args":["true"]}';

/**
 * A concrete request for each path the spec names (the ones of later
 * issues included, to see they are neither served nor documented yet) and
 * the template it stands for.
 */
const PROBES: [target: string, template: string][] = [
  ["/health", "/health"],
  ["/health/leader", "/health/leader"],
  ["/openapi.json", "/openapi.json"],
  ["/jobs", "/jobs"],
  ["/jobs/probe", "/jobs/{id}"],
  ["/rules", "/rules"],
  ["/rules/probe", "/rules/{id}"],
  ["/executions?job=probe", "/executions"],
  ["/metrics", "/metrics"],
  ["/stats", "/stats"],
  ["/", "/"],
  ["/ui/app.js", "/ui/{file}"],
  ["/nothing", "/nothing"],
];

async function documentOf(api: Api): Promise<Json> {
  const response = await api.get("/openapi.json");
  assert.equal(response.status, 200);
  return JSON.parse(response.body);
}

Deno.test("GET /openapi.json is a valid OpenAPI 3.1 document for a real validator, info.version the product version", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const document = await documentOf(new Api(daemon.httpPort));
  assert.equal(document.openapi, "3.1.0");
  const result = await validate(structuredClone(document));
  assert.deepEqual(result, {
    valid: true,
    warnings: [],
    specification: "OpenAPI",
  });
  // the validator does find faults: a path parameter left undeclared
  const broken = structuredClone(document);
  delete broken.paths["/jobs/{id}"].parameters;
  assert.equal((await validate(broken)).valid, false);
  assert.equal(document.info.version, VERSION);
  using tcp = await daemon.connect();
  assert.match(
    await tcp.request("r1 STAT"),
    new RegExp(`^r1 version ${VERSION.replaceAll(".", "\\.")}$`, "m"),
  );
});

/** The operations the daemon serves: those answered other than 404/405. */
async function servedOperations(
  daemon: TestDaemon,
  api: Api,
): Promise<Map<string, { status: number; type: string | undefined }>> {
  const served = new Map<
    string,
    { status: number; type: string | undefined }
  >();
  using tcp = await daemon.connect();
  if (api.token !== undefined) {
    assert.equal(await tcp.request(`AUTH ${api.token}`), "OK");
  }
  for (const [target, template] of PROBES) {
    for (const method of METHODS) {
      // the items the probes name exist before each probe
      assert.equal(await tcp.request(`p1 SET probe ${FAR_NS}`), "p1 OK");
      assert.equal(
        await tcp.request("p2 RULE SET probe probe shell true"),
        "p2 OK",
      );
      const body = target.startsWith("/rules/") ? RULE_BODY : FAR_BODY;
      const response = await api.send(method.toUpperCase(), target, { body });
      if (response.status === 404 || response.status === 405) continue;
      served.set(`${method} ${template}`, {
        status: response.status,
        type: response.headers.get("content-type"),
      });
    }
  }
  return served;
}

function documentedOperations(document: Json): Map<string, Json> {
  const operations = new Map<string, Json>();
  for (const [path, item] of Object.entries<Json>(document.paths)) {
    for (const method of METHODS) {
      if (item[method] !== undefined) {
        operations.set(`${method} ${path}`, item[method]);
      }
    }
  }
  return operations;
}

Deno.test("the OpenAPI document describes exactly the operations served, with their status and content type", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  const document = await documentOf(api);
  const served = await servedOperations(daemon, api);
  const documented = documentedOperations(document);
  assert.deepEqual([...served.keys()].sort(), [...documented.keys()].sort());
  for (const [key, { status, type }] of served) {
    const responses = documented.get(key).responses;
    assert.ok(String(status) in responses, `${key}: ${status} is documented`);
    const media = Object.keys(responses[status].content ?? {});
    if (media.length === 0) {
      assert.ok(
        status === 204 || key.startsWith("get /ui/"),
        `${key}: no content documented`,
      );
      continue;
    }
    assert.ok(
      media.some((m) => type?.split(";")[0] === m),
      `${key}: ${type} is one of ${media}`,
    );
  }
  // every documented path template names its parameters
  for (const path of Object.keys(document.paths)) {
    for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
      const declared = document.paths[path].parameters ?? [];
      assert.ok(
        declared.some((p: Json) => p.name === name && p.in === "path"),
        `${path}: ${name}`,
      );
    }
  }
});

Deno.test("the OpenAPI document's security is what authentication enforces: public operations and Bearer ones", async () => {
  await using auth = await authHttpDaemon();
  const { daemon } = auth;
  const api = new Api(daemon.httpPort);
  const document = await documentOf(api);
  assert.deepEqual(document.components.securitySchemes.bearer, {
    type: "http",
    scheme: "bearer",
  });
  // served with a token: the same operations as without authentication
  const served = await servedOperations(daemon, api.as(ADMIN_SECRET));
  const documented = documentedOperations(document);
  assert.deepEqual([...served.keys()].sort(), [...documented.keys()].sort());
  for (const [key, operation] of documented) {
    const [method, template] = key.split(" ") as [string, string];
    const target = PROBES.find(([, t]) => t === template)![0];
    const security = operation.security ?? document.security;
    const body = target.startsWith("/rules/") ? RULE_BODY : FAR_BODY;
    const response = await api.send(method.toUpperCase(), target, { body });
    if (security.length === 0) {
      assert.notEqual(response.status, 401, `${key} is public`);
    } else {
      assert.deepEqual(security, [{ bearer: [] }], key);
      assert.equal(response.status, 401, `${key} needs a token`);
      assert.ok("401" in operation.responses, `${key} documents 401`);
    }
  }
});
