/**
 * Execution times over real HTTP: RFC 3339 with offsets and fractions to
 * the nanosecond, the signed 64-bit range, the forms refused, and exact
 * integers beyond 2^53 in every answer (spec: http-api.md §1, §4).
 */
import assert from "node:assert/strict";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { Api, assertError, assertJson, jobJson } from "./_http.ts";

/** RFC 3339 texts and the nanoseconds they stand for. */
const ACCEPTED: [string, string][] = [
  ["2099-04-10T12:00:00Z", "4079505600000000000"],
  ["2099-04-10T14:00:00+02:00", "4079505600000000000"],
  ["2099-04-10T06:30:00-05:30", "4079505600000000000"],
  ["2099-04-10T12:00:00+00:00", "4079505600000000000"],
  ["2099-04-10T12:00:00-00:00", "4079505600000000000"],
  ["2099-04-10T12:00:00.5Z", "4079505600500000000"],
  ["2099-04-10T12:00:00.000000001Z", "4079505600000000001"],
  ["2099-04-10T12:00:00.123456789Z", "4079505600123456789"],
  ["2099-04-10T12:59:59.999999999+01:00", "4079505599999999999"],
  ["2099-04-11T01:00:00.000000007+13:00", "4079505600000000007"],
  ["2099-04-10T12:00:00.10Z", "4079505600100000000"],
  ["2099-02-28T23:59:59Z", "4076006399000000000"],
  ["2096-02-29T00:00:00Z", "3981312000000000000"],
  // the ends of the signed 64-bit range of nanoseconds
  ["2262-04-11T23:47:16.854775807Z", "9223372036854775807"],
  ["2262-04-12T01:47:16.854775807+02:00", "9223372036854775807"],
  ["1677-09-21T00:12:43.145224192Z", "-9223372036854775808"],
  ["1970-01-01T00:00:00Z", "0"],
  ["1969-12-31T23:59:59.999999999Z", "-1"],
];

const REFUSED = [
  "2262-04-11T23:47:16.854775808Z", // one past the end
  "1677-09-21T00:12:43.145224191Z",
  "9999-12-31T23:59:59Z",
  "2099-04-10T12:00:00", // no offset
  "2099-04-10T12:00:00z",
  "2099-04-10t12:00:00Z",
  "2099-04-10 12:00:00Z",
  "2099-04-10T12:00Z",
  "2099-04-10T12:00:00.Z",
  "2099-04-10T12:00:00.1234567891Z", // ten digits
  "2099-04-10T12:00:00,5Z",
  "2099-04-10T12:00:00+0200",
  "2099-04-10T12:00:00+2:00",
  "2099-04-10T12:00:00+24:00",
  "2099-04-10T12:00:00+02:60",
  "2099-02-29T00:00:00Z", // not a leap year
  "2099-04-31T00:00:00Z",
  "2099-13-01T00:00:00Z",
  "2099-00-01T00:00:00Z",
  "2099-04-10T24:00:00Z",
  "2099-04-10T12:60:00Z",
  "2016-12-31T23:59:60Z", // a leap second
  "+2099-04-10T12:00:00Z",
  "99-04-10T12:00:00Z",
  " 2099-04-10T12:00:00Z",
  "2099-04-10T12:00:00Z ",
  "２０９９-04-10T12:00:00Z",
  "4079505600000000000",
  "",
];

Deno.test("PUT /jobs takes RFC 3339 with offsets and fractions to the nanosecond", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  using tcp = await daemon.connect();
  for (const [i, [text, ns]] of ACCEPTED.entries()) {
    const id = `t.${i}`;
    assertJson(
      await api.put(`/jobs/${id}`, `{"execution":"${text}"}`),
      200,
      jobJson(id, ns, "planned"),
      text,
    );
    // stored exactly: TCP reads back the same integer
    const answer = await tcp.request(`r${i} GET ${id}`);
    assert.match(answer, new RegExp(`^r${i} OK [a-z]+ ${ns}$`), text);
  }
});

Deno.test("PUT /jobs refuses other timestamps with 400 invalid json and stores nothing", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  for (const text of REFUSED) {
    assertError(
      await api.put("/jobs/t", JSON.stringify({ execution: text })),
      400,
      "invalid json",
      text,
    );
  }
  const wrongTypes = [
    "4079505600000000000",
    "4.0795056e18",
    "true",
    "null",
    '["2099-04-10T12:00:00Z"]',
    '{"at":"2099-04-10T12:00:00Z"}',
  ];
  for (const value of wrongTypes) {
    assertError(
      await api.put("/jobs/t", `{"execution":${value}}`),
      400,
      "invalid json",
      value,
    );
  }
  assertError(
    await api.put("/jobs/t", '{"Execution":"2099-04-10T12:00:00Z"}'),
    400,
    "invalid json",
  );
  assertJson(await api.get("/jobs"), 200, "[]");
});

Deno.test("executions beyond 2^53 are exact integers in every answer: PUT, GET, GET /jobs", async () => {
  await using daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
  });
  const api = new Api(daemon.httpPort);
  using tcp = await daemon.connect();
  // 2^53 + 1, 2^62 + 1 and the largest: a double would round each of them
  const values = [
    "9007199254740993",
    "4611686018427387905",
    "9223372036854775807",
    "-9223372036854775807",
  ];
  for (const [i, ns] of values.entries()) {
    assert.equal(await tcp.request(`r${i} SET big.${i} ${ns}`), `r${i} OK`);
  }
  for (const [i, ns] of values.entries()) {
    const status = ns.startsWith("-") || ns.length < 19 ? "[a-z]+" : "planned";
    const response = await api.get(`/jobs/big.${i}`);
    assert.match(
      response.body,
      new RegExp(
        `^\\{"id":"big\\.${i}","status":"${status}","execution":${ns}\\}$`,
      ),
    );
  }
  const page = await api.get("/jobs?prefix=big.&limit=10");
  assert.match(
    page.body,
    /^\[\{"id":"big\.0","status":"[a-z]+","execution":9007199254740993\},\{"id":"big\.1","status":"planned","execution":4611686018427387905\},\{"id":"big\.2","status":"planned","execution":9223372036854775807\},\{"id":"big\.3","status":"[a-z]+","execution":-9223372036854775807\}\]$/,
  );
  // what a client that parses with doubles would get differs: only the text is exact
  assert.notEqual(String(JSON.parse("9007199254740993")), "9007199254740993");
  const put = await api.put(
    "/jobs/big.ns",
    '{"execution":"2262-04-11T23:47:16.854775807Z"}',
  );
  assert.equal(put.body, jobJson("big.ns", "9223372036854775807"));
});
