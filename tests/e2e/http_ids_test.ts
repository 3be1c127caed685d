/**
 * Identifiers in paths and bodies over real HTTP: the rest of the raw path,
 * percent-decoded once, `/`, `.` and `..` kept as they are (never
 * normalised), control characters refused; and jobs and rules set on one
 * front door seen on the other (spec: http-api.md §1, §4, §6).
 */
import assert from "node:assert/strict";
import { startTestDaemon } from "../_helpers/daemon.ts";
import {
  Api,
  assertError,
  assertJson,
  assertNoContent,
  FAR_BODY,
  FAR_NS,
  jobJson,
  ruleJson,
} from "./_http.ts";

Deno.test("a job set over HTTP is visible over TCP, and one set over TCP over HTTP", async () => {
  await using daemon = await startTestDaemon({ http: true });
  const api = new Api(daemon.httpPort);
  using tcp = await daemon.connect();
  // the spec's example (§6), answered as there
  const put = await api.put(
    "/jobs/deploy.v1",
    '{"execution":"2026-04-10T12:00:00Z"}',
  );
  assertJson(put, 200, jobJson("deploy.v1", "1775822400000000000"));
  assert.match(
    await tcp.request("r1 GET deploy.v1"),
    /^r1 OK (planned|triggered|executed|failed) 1775822400000000000$/,
  );
  assert.equal(
    await tcp.request("r2 SET backup.daily 4102444800000000001"),
    "r2 OK",
  );
  assertJson(
    await api.get("/jobs/backup.daily"),
    200,
    jobJson("backup.daily", "4102444800000000001"),
  );
  await api.putJob("far.job");
  assert.equal(await tcp.request("r3 GET far.job"), `r3 OK planned ${FAR_NS}`);
  assertNoContent(await api.delete("/jobs/far.job"));
  assert.equal(await tcp.request("r4 GET far.job"), "r4 ERROR");
  assert.equal(await tcp.request(`r5 SET tcp.job ${FAR_NS}`), "r5 OK");
  assert.equal(await tcp.request("r6 REMOVE tcp.job"), "r6 OK");
  assertError(await api.get("/jobs/tcp.job"), 404, "not found");
});

Deno.test("a rule set over HTTP is listed over TCP, and one set over TCP over HTTP", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  using tcp = await daemon.connect();
  await api.put(
    "/rules/deploy-notify",
    '{"pattern":"deploy.","runner":"direct","args":["/opt/deploy/notify","--channel","ops"]}',
  );
  assert.equal(
    await tcp.request("r1 LISTRULES"),
    "r1 deploy-notify deploy. direct /opt/deploy/notify --channel ops\nr1 OK",
  );
  assert.equal(await tcp.request("r2 REMOVERULE deploy-notify"), "r2 OK");
  assert.equal(
    await tcp.request('r3 RULE SET hook "hook." shell "echo hi"'),
    "r3 OK",
  );
  assertJson(
    await api.get("/rules"),
    200,
    `[${ruleJson("hook", "hook.", "shell")}]`,
  );
  assertNoContent(await api.delete("/rules/hook"));
  assert.equal(await tcp.request("r4 LISTRULES"), "r4 OK");
});

Deno.test("ids are the rest of the raw path, percent-decoded once: / . .. // and %2F kept", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  using tcp = await daemon.connect();
  const cases: [string, string][] = [
    ["a/b.c/d", "a/b.c/d"],
    ["a%2Fb", "a/b"],
    ["a/../b", "a/../b"],
    ["..", ".."],
    ["%2e%2e/%2E%2E", "../.."],
    ["./x", "./x"],
    ["/x//y/", "/x//y/"],
    ["%252F", "%2F"],
    ["a%20b", "a b"],
    ["caf%C3%A9", "café"],
    ["%F0%9F%98%80", "😀"],
    ["a+b", "a+b"],
    ["a%09b", "a\tb"],
    ["a%3Fb", "a?b"],
    ["%23", "#"],
    ["a%25", "a%"],
  ];
  for (const [path, id] of cases) {
    assertJson(
      await api.put(`/jobs/${path}`, FAR_BODY),
      200,
      jobJson(id),
      path,
    );
    assertJson(await api.get(`/jobs/${path}`), 200, jobJson(id), path);
    const quoted = `"${id.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
    assert.equal(
      await tcp.request(`r1 GET ${quoted}`),
      `r1 OK planned ${FAR_NS}`,
      path,
    );
  }
  // the query is not part of the id
  assertJson(await api.get("/jobs/a%3Fb?x=1"), 200, jobJson("a?b"));
  assertJson(await api.get("/jobs/a+b?"), 200, jobJson("a+b"));
  // nothing was normalised: a/../b did not reach b, %2F and / are one id
  assertError(await api.get("/jobs/b"), 404, "not found");
  assertJson(await api.get("/jobs/a/b"), 200, jobJson("a/b"));
  assertNoContent(await api.delete("/jobs/a/../b"));
  assertError(await api.get("/jobs/a%2F..%2Fb"), 404, "not found");
  // the same holds for rules
  assertJson(
    await api.put(
      "/rules/r/../s%2Ft",
      '{"pattern":"a/","runner":"shell","args":["true"]}',
    ),
    200,
    ruleJson("r/../s/t", "a/", "shell"),
  );
  assertNoContent(await api.delete("/rules/r%2F..%2Fs/t"));
});

Deno.test("a control character in a path id is 400 invalid json; a bad percent-encoding 400 bad request", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  for (
    const code of ["00", "01", "08", "0A", "0a", "0B", "0D", "1B", "1F", "7F"]
  ) {
    for (const method of ["PUT", "GET", "DELETE"]) {
      assertError(
        await api.send(method, `/jobs/a%${code}b`, { body: FAR_BODY }),
        400,
        "invalid json",
        `${method} /jobs/a%${code}b`,
      );
    }
    assertError(
      await api.put(
        `/rules/a%${code}`,
        '{"pattern":"","runner":"shell","args":["x"]}',
      ),
      400,
      "invalid json",
      `/rules/a%${code}`,
    );
  }
  for (
    const bad of ["%", "%Z", "%ZZ", "a%2", "%C3", "%FF", "%C3%28", "%ED%A0%80"]
  ) {
    assertError(await api.get(`/jobs/${bad}`), 400, "bad request", bad);
  }
  // raw control characters and non-ASCII bytes never make a request
  for (const raw of ["a\x01b", "a\x7fb", "caf\xc3\xa9"]) {
    assertError(
      await api.get(`/jobs/${raw}`),
      400,
      "bad request",
      JSON.stringify(raw),
    );
  }
  assertJson(await api.get("/jobs"), 200, "[]");
});

Deno.test("a control character in a body value is 400 invalid json; TAB is allowed", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  // a lone surrogate has no UTF-8 form: it would be stored as U+FFFD
  const bad = ["\\u0000", "\\n", "\\r", "\\u001f", "\\u007f", "\\ud800"];
  for (const char of bad) {
    const bodies = [
      `{"pattern":"a${char}","runner":"shell","args":["x"]}`,
      `{"pattern":"a","runner":"shell","args":["echo ${char}"]}`,
      `{"pattern":"a","runner":"direct","args":["/bin/echo","${char}"]}`,
    ];
    for (const body of bodies) {
      assertError(await api.put("/rules/r", body), 400, "invalid json", body);
    }
    assertError(
      await api.put("/jobs/j", `{"execution":"2099-04-10T12:00:00Z${char}"}`),
      400,
      "invalid json",
    );
  }
  assertJson(await api.get("/rules"), 200, "[]");
  assertJson(
    await api.put(
      "/rules/tab",
      '{"pattern":"a\\tb","runner":"shell","args":["printf \'\\t\'"]}',
    ),
    200,
    ruleJson("tab", "a\tb", "shell"),
  );
});

Deno.test("ids and patterns survive a restart exactly as the HTTP API took them", async () => {
  await using first = await startTestDaemon({ http: true });
  const api = new Api(first.httpPort);
  const ids = [
    "a/../b",
    "x%2Fy",
    "tab\tid",
    "café",
    'q"uote',
    "back\\slash",
    "sp ace",
  ];
  for (const id of ids) {
    await api.putJob(encodeURIComponent(id));
  }
  await api.put(
    "/rules/" + encodeURIComponent('r "1"'),
    JSON.stringify({
      pattern: "a b\\",
      runner: "direct",
      args: ["/bin/echo", 'a "b"', "c\\"],
    }),
  );
  await first.stop();
  await using second = await startTestDaemon({ http: true, dir: first.dir });
  const again = new Api(second.httpPort);
  for (const id of ids) {
    assertJson(
      await again.get(`/jobs/${encodeURIComponent(id)}`),
      200,
      jobJson(id),
      id,
    );
  }
  assertJson(
    await again.get("/rules"),
    200,
    `[${ruleJson('r "1"', "a b\\", "direct")}]`,
  );
  using tcp = await second.connect();
  assert.equal(
    await tcp.request("r1 LISTRULES"),
    // LISTRULES writes values raw (protocol.md §4)
    'r1 r "1" a b\\ direct /bin/echo a "b" c\\\nr1 OK',
  );
});
