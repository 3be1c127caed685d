import assert from "node:assert/strict";
import {
  firstOccurrence,
  latestOccurrence,
  nextOccurrence,
  nextPlanned,
} from "../../../src/domain/cron.ts";
import { parseSchedule } from "../../../src/domain/schedule.ts";

function ns(iso: string): bigint {
  return BigInt(Date.parse(iso)) * 1_000_000n;
}

function iso(at: bigint | undefined): string {
  return at === undefined
    ? "none"
    : new Date(Number(at / 1_000_000n)).toISOString();
}

/** The next `count` occurrences after `from`, as UTC ISO strings. */
function occurrences(
  expression: string,
  from: string,
  count: number,
  tz = "UTC",
): string[] {
  const schedule = parseSchedule(expression, { tz });
  const found: string[] = [];
  let at: bigint | undefined = ns(from);
  for (let i = 0; i < count; i++) {
    at = nextOccurrence(schedule, at!);
    found.push(iso(at));
  }
  return found;
}

Deno.test("0 2 * * * in Europe/Paris: spring forward 2027 fires at 03:00 CEST, fall back once at the first 02:00", () => {
  // 2027-03-28 01:00Z: 02:00 CET → 03:00 CEST.
  assert.deepEqual(
    occurrences("0 2 * * *", "2027-03-27T00:00:00Z", 3, "Europe/Paris"),
    [
      "2027-03-27T01:00:00.000Z", // 02:00 CET
      "2027-03-28T01:00:00.000Z", // 02:00 missing: 03:00 CEST
      "2027-03-29T00:00:00.000Z", // 02:00 CEST
    ],
  );
  // 2027-10-31 01:00Z: 03:00 CEST → 02:00 CET; 02:00 happens twice.
  assert.deepEqual(
    occurrences("0 2 * * *", "2027-10-29T12:00:00Z", 3, "Europe/Paris"),
    [
      "2027-10-30T00:00:00.000Z",
      "2027-10-31T00:00:00.000Z", // the first 02:00 (CEST) only
      "2027-11-01T01:00:00.000Z", // 02:00 CET
    ],
  );
});

Deno.test("30 2 * * * on the spring-forward night fires once, at the first instant after the gap", () => {
  assert.deepEqual(
    occurrences("30 2 * * *", "2027-03-27T12:00:00Z", 2, "Europe/Paris"),
    ["2027-03-28T01:00:00.000Z", "2027-03-29T00:30:00.000Z"],
  );
});

Deno.test("an hourly expression runs every real hour through both passes of the repeated hour; a fixed hour with a minute step only the first", () => {
  assert.deepEqual(
    occurrences("0 * * * *", "2027-10-30T22:30:00Z", 4, "Europe/Paris"),
    [
      "2027-10-30T23:00:00.000Z", // 01:00 CEST
      "2027-10-31T00:00:00.000Z", // 02:00 CEST
      "2027-10-31T01:00:00.000Z", // 02:00 CET
      "2027-10-31T02:00:00.000Z", // 03:00 CET
    ],
  );
  assert.deepEqual(
    occurrences("*/30 2 * * *", "2027-10-30T22:30:00Z", 3, "Europe/Paris"),
    [
      "2027-10-31T00:00:00.000Z",
      "2027-10-31T00:30:00.000Z",
      "2027-11-01T01:00:00.000Z",
    ],
  );
  // croner alone calls a list of hours an interval job; ztick: fixed hours.
  assert.deepEqual(
    occurrences("0 1,2 * * *", "2027-10-30T22:30:00Z", 3, "Europe/Paris"),
    [
      "2027-10-30T23:00:00.000Z",
      "2027-10-31T00:00:00.000Z",
      "2027-11-01T00:00:00.000Z",
    ],
  );
  // a step in the hour field keeps both passes
  assert.deepEqual(
    occurrences("0 */1 * * *", "2027-10-31T00:30:00Z", 2, "Europe/Paris"),
    ["2027-10-31T01:00:00.000Z", "2027-10-31T02:00:00.000Z"],
  );
  // :30 every hour on the spring-forward night: 02:30 → 03:00 CEST
  assert.deepEqual(
    occurrences("30 * * * *", "2027-03-28T00:00:00Z", 3, "Europe/Paris"),
    [
      "2027-03-28T00:30:00.000Z",
      "2027-03-28T01:00:00.000Z",
      "2027-03-28T01:30:00.000Z",
    ],
  );
});

Deno.test("0 0 31 * * skips the months without a 31st", () => {
  assert.deepEqual(occurrences("0 0 31 * *", "2027-01-01T00:00:00Z", 4), [
    "2027-01-31T00:00:00.000Z",
    "2027-03-31T00:00:00.000Z",
    "2027-05-31T00:00:00.000Z",
    "2027-07-31T00:00:00.000Z",
  ]);
  assert.deepEqual(
    occurrences("0 0 31 * *", "2027-01-01T00:00:00Z", 2, "Europe/Paris"),
    ["2027-01-30T23:00:00.000Z", "2027-03-30T22:00:00.000Z"],
  );
});

Deno.test("@weekly is Sunday midnight; 0 and 7 are both Sunday; names are case-insensitive", () => {
  // 2027-01-01 is a Friday.
  const sundays = ["2027-01-03T00:00:00.000Z", "2027-01-10T00:00:00.000Z"];
  assert.deepEqual(occurrences("@weekly", "2027-01-01T00:00:00Z", 2), sundays);
  assert.deepEqual(
    occurrences("0 0 * * 0", "2027-01-01T00:00:00Z", 2),
    sundays,
  );
  assert.deepEqual(
    occurrences("0 0 * * 7", "2027-01-01T00:00:00Z", 2),
    sundays,
  );
  assert.deepEqual(
    occurrences("0 0 * * sun", "2027-01-01T00:00:00Z", 2),
    sundays,
  );
  assert.deepEqual(occurrences("0 0 * feb Mon", "2027-01-01T00:00:00Z", 1), [
    "2027-02-01T00:00:00.000Z",
  ]);
  // ranges up to 7 end on Sunday: Friday, Saturday, Sunday
  assert.deepEqual(occurrences("0 0 * * 5-7", "2027-01-01T00:00:00Z", 3), [
    "2027-01-02T00:00:00.000Z",
    "2027-01-03T00:00:00.000Z",
    "2027-01-08T00:00:00.000Z",
  ]);
  assert.deepEqual(occurrences("0 9 * * mon-FRI", "2027-01-01T12:00:00Z", 2), [
    "2027-01-04T09:00:00.000Z",
    "2027-01-05T09:00:00.000Z",
  ]);
  assert.deepEqual(occurrences("@hourly", "2027-01-01T00:00:00Z", 1), [
    "2027-01-01T01:00:00.000Z",
  ]);
  assert.deepEqual(occurrences("@yearly", "2027-01-01T00:00:00Z", 1), [
    "2028-01-01T00:00:00.000Z",
  ]);
});

Deno.test("six fields: seconds first", () => {
  assert.deepEqual(occurrences("*/1 * * * * *", "2027-01-01T00:00:00Z", 3), [
    "2027-01-01T00:00:01.000Z",
    "2027-01-01T00:00:02.000Z",
    "2027-01-01T00:00:03.000Z",
  ]);
  assert.deepEqual(occurrences("15,45 30 2 * * *", "2027-01-01T00:00:00Z", 2), [
    "2027-01-01T02:30:15.000Z",
    "2027-01-01T02:30:45.000Z",
  ]);
  // strictly after, also from within a second
  assert.equal(
    iso(
      nextOccurrence(
        parseSchedule("* * * * * *"),
        ns("2027-01-01T00:00:00Z") + 1n,
      ),
    ),
    "2027-01-01T00:00:01.000Z",
  );
});

Deno.test("day-of-month and day-of-week: OR when both are restricted, AND when either starts with *", () => {
  // the 13th OR Fridays
  assert.deepEqual(occurrences("0 0 13 * fri", "2027-01-01T00:00:00Z", 3), [
    "2027-01-08T00:00:00.000Z",
    "2027-01-13T00:00:00.000Z",
    "2027-01-15T00:00:00.000Z",
  ]);
  // 1-5 OR Fridays
  assert.deepEqual(occurrences("0 0 1-5 * 5", "2027-01-05T12:00:00Z", 2), [
    "2027-01-08T00:00:00.000Z",
    "2027-01-15T00:00:00.000Z",
  ]);
  // */10 starts with *: days 1, 11, 21, 31 that are Fridays (croner
  // alone would OR them: 8, 11, 15 January)
  assert.deepEqual(occurrences("0 0 */10 * fri", "2027-01-01T00:00:00Z", 2), [
    "2027-05-21T00:00:00.000Z",
    "2027-06-11T00:00:00.000Z",
  ]);
});

Deno.test("firstOccurrence() is undefined without an occurrence in the next five years", () => {
  const now = ns("2027-01-01T00:00:00Z");
  assert.equal(firstOccurrence(parseSchedule("0 0 30 2 *"), now), undefined);
  assert.equal(firstOccurrence(parseSchedule("0 0 31 4 *"), now), undefined);
  assert.equal(
    iso(firstOccurrence(parseSchedule("0 0 29 2 *"), now)),
    "2028-02-29T00:00:00.000Z",
  );
  // 2097: the next 29 February is in 2104, more than five years away
  assert.equal(
    firstOccurrence(parseSchedule("0 0 29 2 *"), ns("2097-03-01T00:00:00Z")),
    undefined,
  );
});

Deno.test("latestOccurrence() is the latest at or before, across a repeated hour", () => {
  const hourly = parseSchedule("0 * * * *", { tz: "Europe/Paris" });
  assert.equal(
    iso(latestOccurrence(hourly, ns("2027-10-31T01:30:00Z"))),
    "2027-10-31T01:00:00.000Z",
  );
  assert.equal(
    iso(latestOccurrence(hourly, ns("2027-10-31T01:00:00Z"))),
    "2027-10-31T01:00:00.000Z",
  );
  assert.equal(
    iso(latestOccurrence(hourly, ns("2027-10-31T00:59:59Z"))),
    "2027-10-31T00:00:00.000Z",
  );
  const utc = parseSchedule("*/5 * * * *");
  assert.equal(
    iso(latestOccurrence(utc, ns("2027-01-01T00:07:00Z"))),
    "2027-01-01T00:05:00.000Z",
  );
});

Deno.test("nextPlanned(): skip the next after now, once the latest past one, all the next after the handled one, at most 1000 behind", () => {
  const handled = ns("2027-01-01T00:00:00Z");
  const now = ns("2027-01-01T00:05:30Z");
  const plan = (catchup: string, at = now) =>
    iso(nextPlanned(parseSchedule("* * * * *", { catchup }), handled, at));
  assert.equal(plan("skip"), "2027-01-01T00:06:00.000Z");
  assert.equal(plan("once"), "2027-01-01T00:05:00.000Z");
  assert.equal(plan("all"), "2027-01-01T00:01:00.000Z");
  // nothing missed: all three plan the next occurrence
  const soon = ns("2027-01-01T00:00:30Z");
  for (const catchup of ["skip", "once", "all"]) {
    assert.equal(plan(catchup, soon), "2027-01-01T00:01:00.000Z", catchup);
  }
  // a day behind: all keeps the latest 1000 (00:05:30 is 1000 + 5 minutes … )
  const day = ns("2027-01-02T00:00:00Z");
  assert.equal(plan("all", day), "2027-01-01T07:21:00.000Z");
  assert.equal(plan("once", day), "2027-01-02T00:00:00.000Z");
});
