import assert from "node:assert/strict";
import {
  normalizeExpression,
  parseCronArgs,
  parseSchedule,
} from "../../../src/domain/schedule.ts";

Deno.test({
  name:
    "normalizeExpression() keeps what extensions.md §4 allows, fields joined by single spaces",
  permissions: "none",
  fn() {
    for (
      const [given, stored] of [
        ["0 2 * * *", "0 2 * * *"],
        ["0\t2   * *\t*", "0 2 * * *"],
        ["*/10 * * * * *", "*/10 * * * * *"],
        [
          "3-59/15 1,15 1-5 JAN-mar mon-FRI",
          "3-59/15 1,15 1-5 JAN-mar mon-FRI",
        ],
        ["0 0 * * 0,7", "0 0 * * 0,7"],
        ["0 0 * * 5-7", "0 0 * * 5-7"],
        ["05 02 * * *", "05 02 * * *"],
        ["59 23 31 12 7", "59 23 31 12 7"],
        ["*/1 * * * * *", "*/1 * * * * *"],
      ]
    ) assert.equal(normalizeExpression(given!), stored, given);
    for (
      const nickname of [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
      ]
    ) assert.equal(normalizeExpression(nickname), nickname);
  },
});

Deno.test({
  name:
    "normalizeExpression() refuses ?, L, W, #, @reboot, @every, seven fields, step 0, backward ranges, out of range",
  permissions: "none",
  fn() {
    for (
      const bad of [
        "",
        "   ",
        "* * * *",
        "0 0 0 * * * *",
        "0 0 ? * *",
        "0 0 L * *",
        "0 0 15W * *",
        "0 0 * * 5#2",
        "0 0 * * 5L",
        "0 0 * * +MON",
        "@reboot",
        "@every 5m",
        "@WEEKLY",
        "@Daily",
        "*/0 * * * *",
        "5-1 * * * *",
        "60 * * * *",
        "0 24 * * *",
        "0 0 0 * *",
        "0 0 32 * *",
        "0 0 * 0 *",
        "0 0 * 13 *",
        "0 0 * * 8",
        "0 0 * * 7-0",
        "60 * * * * *",
        "1,,2 * * * *",
        "5/10 * * * *",
        "/5 * * * *",
        "0 0 * JANUARY *",
        "0 0 * * MO",
        "0 0 * MON *",
        "- * * * *",
        "-1 * * * *",
        "0 0 1 * * 2027",
      ]
    ) assert.throws(() => normalizeExpression(bad), SyntaxError, bad);
  },
});

Deno.test({
  name:
    "parseSchedule() checks the zone and policy, defaults UTC and once, and shares identical schedules",
  permissions: "none",
  fn() {
    assert.deepEqual(parseSchedule("@daily"), {
      expression: "@daily",
      tz: "UTC",
      catchup: "once",
    });
    const a = parseSchedule("0  2 * * *", {
      tz: "Europe/Paris",
      catchup: "all",
    });
    assert.equal(
      parseSchedule("0 2 * * *", { tz: "Europe/Paris", catchup: "all" }),
      a,
    );
    assert.ok(Object.isFrozen(a));
    assert.equal(
      parseSchedule("@daily", { tz: "America/New_York" }).tz,
      "America/New_York",
    );
    for (const tz of ["Mars/Olympus", "europe/paris", "", "UTC+1", "utc"]) {
      assert.throws(() => parseSchedule("@daily", { tz }), SyntaxError, tz);
    }
    for (const catchup of ["", "ONCE", "none", "latest"]) {
      assert.throws(() => parseSchedule("@daily", { catchup }), SyntaxError);
    }
  },
});

Deno.test({
  name:
    "parseCronArgs() takes tz= and catchup= once each, in any order, nothing else",
  permissions: "none",
  fn() {
    assert.deepEqual(
      parseCronArgs("@weekly", ["catchup=skip", "tz=Asia/Tokyo"]),
      { expression: "@weekly", tz: "Asia/Tokyo", catchup: "skip" },
    );
    for (
      const bad of [
        ["tz="],
        ["catchup="],
        ["tz=UTC", "tz=UTC"],
        ["catchup=once", "catchup=all"],
        ["retries=3"],
        ["UTC"],
        ["=UTC"],
        ["catchup=sometimes"],
        ["tz=Nowhere/Else"],
      ]
    ) {
      assert.throws(
        () => parseCronArgs("@weekly", bad),
        SyntaxError,
        String(bad),
      );
    }
  },
});
