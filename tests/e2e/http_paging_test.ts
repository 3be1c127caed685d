/**
 * `GET /jobs` paging over real HTTP: `limit`, `after`, `status` and
 * `prefix`, sorted by id in byte order when paged, and `invalid query` for
 * bad or repeated parameters (spec: http-api.md §4).
 */
import assert from "node:assert/strict";
import { startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { Api, assertError, assertJson, FAR_NS, jobJson } from "./_http.ts";

/**
 * Ids whose byte order (UTF-8) differs from JavaScript's UTF-16 order: a
 * surrogate pair (U+1F600, F0 9F 98 80) sorts after U+FF61 (EF BD A1) in
 * bytes but before it in UTF-16 code units.
 */
const IDS = [
  "p.b",
  "p.a",
  "p.😀",
  "p.｡",
  "p.B",
  "p.a/b",
  "p.a.b",
  "p.é",
  "p.~",
  "p.a b",
];
/** {@link IDS} in byte order. */
const BYTE_ORDER = [...IDS].sort(compareBytes);

/** Compares the UTF-8 bytes of two strings. */
function compareBytes(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return x.length - y.length;
}

/** Sets the jobs over TCP, all planned far ahead, and returns the API. */
async function withJobs(
  daemon: TestDaemon,
  ids: readonly string[],
): Promise<Api> {
  using tcp = await daemon.connect();
  const lines = ids.map((id, i) => `r${i} SET "${id}" ${FAR_NS}\n`).join("");
  await tcp.send(lines);
  for (let i = 0; i < ids.length; i++) {
    assert.equal(await tcp.readLine(), `r${i} OK`);
  }
  return new Api(daemon.httpPort);
}

function ids(body: string): string[] {
  return JSON.parse(body).map((job: { id: string }) => job.id);
}

Deno.test("GET /jobs?limit= is sorted by id in byte order and holds at most limit jobs", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = await withJobs(daemon, IDS);
  assert.notDeepEqual(
    BYTE_ORDER,
    [...IDS].sort(),
    "the ids tell byte order from UTF-16 order",
  );
  assert.deepEqual(ids((await api.get("/jobs?limit=1000")).body), BYTE_ORDER);
  assert.deepEqual(
    ids((await api.get("/jobs?limit=3")).body),
    BYTE_ORDER.slice(0, 3),
  );
  assert.deepEqual(
    ids((await api.get("/jobs?limit=1")).body),
    BYTE_ORDER.slice(0, 1),
  );
  assertJson(
    await api.get("/jobs?limit=2"),
    200,
    `[${jobJson(BYTE_ORDER[0]!)},${jobJson(BYTE_ORDER[1]!)}]`,
  );
  // without limit or after: every job, in any order
  assert.deepEqual(ids((await api.get("/jobs")).body).sort(), [...IDS].sort());
});

Deno.test("GET /jobs?after= pages through every job, one page after the other", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = await withJobs(daemon, IDS);
  const seen: string[] = [];
  let after: string | undefined;
  for (let page = 0; page < 10; page++) {
    const query = after === undefined
      ? "limit=3"
      : `limit=3&after=${encodeURIComponent(after)}`;
    const batch = ids((await api.get(`/jobs?${query}`)).body);
    assert.ok(batch.length <= 3);
    if (batch.length === 0) break;
    seen.push(...batch);
    after = batch.at(-1);
  }
  assert.deepEqual(seen, BYTE_ORDER);
  // after alone: sorted, only ids greater than it
  assert.deepEqual(
    ids((await api.get("/jobs?after=p.a")).body),
    BYTE_ORDER.filter((id) => compareBytes(id, "p.a") > 0),
  );
  assert.deepEqual(
    ids((await api.get(`/jobs?after=${encodeURIComponent("p.😀")}`)).body),
    [],
  );
  assert.deepEqual(ids((await api.get("/jobs?after=")).body), BYTE_ORDER);
  assert.deepEqual(ids((await api.get("/jobs?after=p.a%2Fb&limit=1")).body), [
    BYTE_ORDER[BYTE_ORDER.indexOf("p.a/b") + 1],
  ]);
});

Deno.test("GET /jobs?after= alone holds at most 1000 jobs", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const many = Array.from(
    { length: 1003 },
    (_, i) => `m.${String(i).padStart(4, "0")}`,
  );
  const api = await withJobs(daemon, many);
  const page = ids((await api.get("/jobs?after=m.")).body);
  assert.deepEqual(page, many.slice(0, 1000));
  assert.deepEqual(
    ids((await api.get("/jobs?after=m.0999")).body),
    many.slice(1000),
  );
  assert.equal(ids((await api.get("/jobs")).body).length, 1003);
});

Deno.test("GET /jobs?status= and prefix= filter, also with paging; prefix is percent-decoded", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = await withJobs(daemon, ["a/1", "a/2", "a/3", "b/1"]);
  using tcp = await daemon.connect();
  // a job in the past with no rule fails at once
  assert.equal(await tcp.request("r1 SET a/0 1"), "r1 OK");
  for (let i = 0; i < 500; i++) {
    if ((await api.get("/jobs/a%2F0")).body.includes('"failed"')) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assertJson(
    await api.get("/jobs?status=failed"),
    200,
    `[${jobJson("a/0", "1", "failed")}]`,
  );
  assert.deepEqual(ids((await api.get("/jobs?status=planned&limit=10")).body), [
    "a/1",
    "a/2",
    "a/3",
    "b/1",
  ]);
  assert.deepEqual(
    ids(
      (await api.get("/jobs?status=planned&prefix=a%2F&after=a/1&limit=1"))
        .body,
    ),
    ["a/2"],
  );
  assert.deepEqual(ids((await api.get("/jobs?prefix=a/&limit=1000")).body), [
    "a/0",
    "a/1",
    "a/2",
    "a/3",
  ]);
  assert.deepEqual(ids((await api.get("/jobs?prefix=b%2F1")).body), ["b/1"]);
  for (const status of ["triggered", "executed"]) {
    assertJson(await api.get(`/jobs?status=${status}`), 200, "[]", status);
  }
  // parameters in any order; an empty prefix is everything
  assert.deepEqual(
    ids((await api.get("/jobs?limit=2&prefix=&status=planned")).body),
    ["a/1", "a/2"],
  );
});

Deno.test("GET /jobs answers 400 invalid query to a bad limit, an unknown status, a repeated parameter", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = await withJobs(daemon, ["a"]);
  const bad = [
    "limit=0",
    "limit=1001",
    "limit=-1",
    "limit=1.5",
    "limit=1e2",
    "limit=abc",
    "limit=",
    "limit",
    "limit=+5",
    "limit=%2B5",
    "limit=%205",
    "limit=99999999999999999999",
    "status=unknown",
    "status=PLANNED",
    "status=",
    "limit=1&limit=1",
    "after=a&after=b",
    "prefix=a&prefix=a",
    "status=planned&status=failed",
    "prefix=a&pre%66ix=b",
    "prefix=%ZZ",
    "after=%C3",
    "prefix=a%00",
  ];
  for (const query of bad) {
    assertError(await api.get(`/jobs?${query}`), 400, "invalid query", query);
  }
  assertJson(await api.get("/jobs?limit=1000"), 200, `[${jobJson("a")}]`);
  assertJson(await api.get("/jobs?limit=0001"), 200, `[${jobJson("a")}]`);
});
