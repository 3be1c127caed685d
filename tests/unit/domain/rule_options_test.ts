import assert from "node:assert/strict";
import {
  parseRuleOptions,
  retryDelayMs,
  ruleOptionsFromObject,
  ruleOptionsObject,
  ruleOptionTokens,
} from "../../../src/domain/rule_options.ts";

Deno.test({
  name: "parseRuleOptions() reads each key in any order",
  permissions: "none",
  fn() {
    assert.deepEqual(
      parseRuleOptions([
        "timeout=0",
        "max_backoff=10m",
        "backoff=30s",
        "retries=5",
      ]),
      {
        timeoutMs: 0,
        maxBackoffMs: 600_000,
        backoffMs: 30_000,
        retries: 5,
      },
    );
    assert.deepEqual(parseRuleOptions(["retries=03"]), { retries: 3 });
    assert.deepEqual(parseRuleOptions(["retries=100"]), { retries: 100 });
    assert.deepEqual(parseRuleOptions(["retries=0"]), { retries: 0 });
    assert.deepEqual(parseRuleOptions(["backoff=1ms"]), { backoffMs: 1 });
    assert.deepEqual(parseRuleOptions(["backoff=1h"]), {
      backoffMs: 3_600_000,
    });
    assert.deepEqual(parseRuleOptions(["max_backoff=10s"]), {
      maxBackoffMs: 10_000,
    });
  },
});

Deno.test({
  name: "parseRuleOptions() refuses every bad option of extensions.md §1",
  permissions: "none",
  fn() {
    const bad: [string, string[]][] = [
      ["unknown key", ["retry=3"]],
      ["key given twice", ["retries=1", "retries=1"]],
      ["empty key", ["=5"]],
      ["empty value", ["retries="]],
      ["a second = in the value", ["retries=3=4"]],
      ["retries above 100", ["retries=101"]],
      ["retries negative", ["retries=-1"]],
      ["retries not decimal", ["retries=3.0"]],
      ["retries with a sign", ["retries=+3"]],
      ["retries hex", ["retries=0x3"]],
      ["retries a duration", ["retries=3s"]],
      ["backoff=0", ["backoff=0"]],
      ["backoff=0ms", ["backoff=0ms"]],
      ["backoff combined units", ["backoff=1h30m"]],
      ["backoff a fraction", ["backoff=1.5s"]],
      ["backoff upper-case unit", ["backoff=10S"]],
      ["backoff with a sign", ["backoff=+3"]],
      ["backoff above 2^32-1 s", ["backoff=4294967296"]],
      ["timeout above 2^32-1 s", ["timeout=49711d"]],
      ["max_backoff below the default backoff", ["max_backoff=5s"]],
      ["max_backoff below backoff", ["backoff=2m", "max_backoff=1m"]],
      ["backoff above the default max_backoff", ["backoff=2h"]],
      ["max_backoff=0", ["max_backoff=0"]],
    ];
    for (const [what, tokens] of bad) {
      assert.throws(() => parseRuleOptions(tokens), SyntaxError, what);
    }
  },
});

Deno.test({
  name: "ruleOptionTokens() renders given options canonically, in key order",
  permissions: "none",
  fn() {
    assert.deepEqual(
      ruleOptionTokens(
        parseRuleOptions([
          "timeout=0",
          "max_backoff=600s",
          "backoff=90",
          "retries=005",
        ]),
      ),
      ["retries=5", "backoff=90s", "max_backoff=10m", "timeout=0s"],
    );
    assert.deepEqual(ruleOptionTokens(parseRuleOptions(["backoff=120s"])), [
      "backoff=2m",
    ]);
    assert.deepEqual(ruleOptionTokens(parseRuleOptions([])), []);
  },
});

Deno.test({
  name:
    "ruleOptionsFromObject() takes what PUT /rules sends, checked the same way",
  permissions: "none",
  fn() {
    const options = ruleOptionsFromObject({
      retries: 5,
      backoff: "30s",
      max_backoff: "10m",
      timeout: "2m",
    });
    assert.equal(
      JSON.stringify(ruleOptionsObject(options)),
      '{"retries":5,"backoff":"30s","max_backoff":"10m","timeout":"2m"}',
    );
    assert.equal(ruleOptionsFromObject({}), undefined);
    for (
      const value of [
        null,
        [],
        "retries=5",
        { retries: "5" },
        { retries: 5.5 },
        { retries: 101 },
        { backoff: 30 },
        { backoff: "0" },
        { max_backoff: "5s" },
        { timeout: null },
        { unknown: "1s" },
      ]
    ) {
      assert.throws(
        () => ruleOptionsFromObject(value),
        SyntaxError,
        JSON.stringify(value),
      );
    }
  },
});

Deno.test({
  name:
    "retryDelayMs() doubles from the backoff, adds jitter and stops at max_backoff",
  permissions: "none",
  fn() {
    const options = { backoffMs: 1000, maxBackoffMs: 5000 };
    assert.equal(retryDelayMs(options, 1, 0), 1000);
    assert.equal(retryDelayMs(options, 2, 0), 2000);
    assert.equal(retryDelayMs(options, 3, 0), 4000);
    assert.equal(retryDelayMs(options, 3, 0.0999), 4399.6);
    assert.equal(
      retryDelayMs(options, 3, 0.5),
      5000,
      "jitter never passes the cap",
    );
    assert.equal(retryDelayMs(options, 100, 0.05), 5000);
    assert.equal(retryDelayMs(undefined, 1, 0), 10_000, "default backoff");
    assert.equal(retryDelayMs(undefined, 20, 0), 3_600_000, "default cap");
  },
});
