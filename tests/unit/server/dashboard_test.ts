/**
 * Unit tests of the dashboard's pure helpers, run by Deno directly (the
 * modules are plain ES modules with no DOM access at import time).
 */
import assert from "node:assert/strict";
import {
  featuresOf,
  parseExact,
  query,
} from "../../../src/server/http/dashboard/api.js";
import {
  formatDuration,
  formatUtc,
  nsToMs,
} from "../../../src/server/http/dashboard/format.js";
import { openApiDocument } from "../../../src/server/http/openapi.ts";

Deno.test({
  name: "parseExact() keeps timestamps and integers beyond 2^53 exact",
  permissions: "none",
  fn() {
    const text =
      '{"execution":1775822400000000001,"started":12,"n":9007199254740993,"small":42,"p50":0.4,"s":"1775822400000000001","a":[1,18446744073709551615]}';
    assert.deepEqual(parseExact(text), {
      execution: 1775822400000000001n,
      started: 12n, // timestamps are always bigint, whatever their size
      n: 9007199254740993n,
      small: 42,
      p50: 0.4,
      s: "1775822400000000001", // strings stay strings
      a: [1, 18446744073709551615n],
    });
  },
});

Deno.test({
  name: "formatUtc() is exact to the nanosecond, before 1970 too",
  permissions: "none",
  fn() {
    assert.equal(
      formatUtc(1775822400000000001n),
      "2026-04-10 12:00:00.000000001 UTC",
    );
    assert.equal(formatUtc(1775822400500000000n), "2026-04-10 12:00:00.5 UTC");
    assert.equal(formatUtc(0n), "1970-01-01 00:00:00 UTC");
    assert.equal(formatUtc(-1n), "1969-12-31 23:59:59.999999999 UTC");
    assert.equal(
      formatUtc(-9223372036854775808n),
      "1677-09-21 00:12:43.145224192 UTC",
    );
    assert.equal(nsToMs(-1n), -1);
  },
});

Deno.test({
  name: "formatDuration() picks a readable unit",
  permissions: "none",
  fn() {
    assert.equal(formatDuration(412n), "412 ns");
    assert.equal(formatDuration(412_000n), "412.0 µs");
    assert.equal(formatDuration(1_234_000_000n), "1.234 s");
    assert.equal(formatDuration(185_000_000_000n), "3 min 5 s");
    assert.equal(formatDuration(7_620_000_000_000n), "2 h 07 min");
  },
});

Deno.test({
  name: "query() percent-encodes with %20 and %2B, never a bare +",
  permissions: "none",
  fn() {
    assert.equal(
      query("jobs", {
        prefix: "a b+c/d",
        status: "",
        after: undefined,
        limit: 51,
      }),
      "jobs?prefix=a%20b%2Bc%2Fd&limit=51",
    );
    assert.equal(query("rules", {}), "rules");
  },
});

Deno.test({
  name:
    "featuresOf() reads the run history, cron and rule options from the API document",
  permissions: "none",
  fn() {
    // Today's daemon serves the history, recurring jobs and rule options.
    assert.deepEqual(featuresOf(JSON.parse(openApiDocument("0.1.0"))), {
      executions: true,
      cron: true,
      ruleOptions: true,
    });
    const later = {
      paths: {
        "/executions": { get: {} },
        "/jobs/{id}": { put: body({ $ref: "#/components/schemas/JobPut" }) },
        "/rules/{id}": {
          put: body({
            allOf: [{ properties: { pattern: {} } }, {
              properties: { options: {} },
            }],
          }),
        },
      },
      components: {
        schemas: {
          JobPut: {
            oneOf: [{ properties: { execution: {} } }, {
              properties: { cron: {}, tz: {} },
            }],
          },
        },
      },
    };
    assert.deepEqual(featuresOf(later), {
      executions: true,
      cron: true,
      ruleOptions: true,
    });
    const unknown = { executions: true, cron: true, ruleOptions: true };
    assert.deepEqual(featuresOf(null), unknown);
    assert.deepEqual(featuresOf({ openapi: "3.1.0" }), unknown);
  },
});

function body(schema: unknown) {
  return { requestBody: { content: { "application/json": { schema } } } };
}
