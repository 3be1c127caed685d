import assert from "node:assert/strict";
import { checkTimeZone, parseWhen } from "../../../src/client/when.ts";

const NOW = 1_700_000_000_123_456_789n;
const S = 1_000_000_000n;
const APRIL_1_2AM_UTC = 1775008800000000000n;

function at(text: string, zone = "Europe/Paris"): bigint {
  return parseWhen(text, { nowNs: NOW, timeZone: () => zone });
}

function refused(text: string, pattern: RegExp, zone = "UTC"): void {
  assert.throws(() => at(text, zone), (error) => {
    assert.ok(error instanceof SyntaxError, String(error));
    assert.match(error.message, pattern);
    return true;
  }, text);
}

Deno.test({
  name:
    "parseWhen() reads RFC 3339 times with offsets and fractions to the nanosecond",
  permissions: "none",
  fn() {
    assert.equal(at("2026-04-01T02:00:00Z"), APRIL_1_2AM_UTC);
    assert.equal(at("2026-04-01t02:00:00z"), APRIL_1_2AM_UTC);
    assert.equal(at("2026-04-01 02:00:00Z"), APRIL_1_2AM_UTC);
    assert.equal(at("2026-04-01T04:00:00+02:00"), APRIL_1_2AM_UTC);
    assert.equal(at("2026-03-31T20:30:00-05:30"), APRIL_1_2AM_UTC);
    assert.equal(at("2026-04-01T02:00Z"), APRIL_1_2AM_UTC);
    assert.equal(at("2026-04-01T02:00:00.5Z"), APRIL_1_2AM_UTC + S / 2n);
    assert.equal(
      at("2026-04-01T02:00:00.123456789Z"),
      APRIL_1_2AM_UTC + 123_456_789n,
    );
    assert.equal(at("1970-01-01T00:00:00Z"), 0n);
    assert.equal(at("1969-12-31T23:59:59.999999999Z"), -1n);
  },
});

Deno.test({
  name: "parseWhen() refuses dates, times and offsets that do not exist",
  permissions: "none",
  fn() {
    refused("2026-13-01T00:00:00Z", /no such date or time/);
    refused("2026-02-29T00:00:00Z", /no such date or time/);
    refused("2026-04-01T24:00:00Z", /no such date or time/);
    refused("2026-04-01T23:60:00Z", /no such date or time/);
    refused("2026-04-01T23:59:60Z", /no such date or time/);
    refused("2026-04-01T02:00:00+24:00", /no such offset/);
    refused("2026-04-01T02:00:00.1234567891Z", /expected an RFC 3339/);
    refused("2026-04-01", /expected an RFC 3339/);
    refused("2300-01-01T00:00:00Z", /out of range/);
  },
});

Deno.test({
  name: "parseWhen() reads a local date and time in the zone it is given",
  permissions: "none",
  fn() {
    // CEST, UTC+2.
    assert.equal(at("2026-04-01 04:00"), APRIL_1_2AM_UTC);
    assert.equal(at("2026-04-01T04:00:00"), APRIL_1_2AM_UTC);
    assert.equal(at("2026-04-01 04:00:00.25"), APRIL_1_2AM_UTC + S / 4n);
    assert.equal(at("2026-03-31 22:00", "America/New_York"), APRIL_1_2AM_UTC);
    assert.equal(at("2026-04-01 02:00", "UTC"), APRIL_1_2AM_UTC);
  },
});

Deno.test({
  name:
    "parseWhen() maps a time skipped by DST to the first instant after the gap",
  permissions: "none",
  fn() {
    // Paris, 2026-03-29: 02:00 CET jumps to 03:00 CEST, i.e. 01:00Z.
    const gapEnd = at("2026-03-29T01:00:00Z");
    assert.equal(at("2026-03-29 02:00"), gapEnd);
    assert.equal(at("2026-03-29 02:30"), gapEnd);
    assert.equal(at("2026-03-29 02:59:59.999"), gapEnd);
    assert.equal(at("2026-03-29 03:00"), gapEnd);
    assert.equal(at("2026-03-29 01:59:59"), gapEnd - S);
    // New York, 2026-03-08 02:00 EST → 03:00 EDT (07:00Z).
    assert.equal(
      at("2026-03-08 02:15", "America/New_York"),
      at("2026-03-08T07:00:00Z"),
    );
  },
});

Deno.test({
  name: "parseWhen() maps a time repeated by DST to its first occurrence",
  permissions: "none",
  fn() {
    // Paris, 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:30 occurs
    // at 00:30Z (CEST) and again at 01:30Z (CET).
    assert.equal(at("2026-10-25 02:30"), at("2026-10-25T00:30:00Z"));
    assert.equal(at("2026-10-25 02:00"), at("2026-10-25T00:00:00Z"));
    assert.equal(at("2026-10-25 03:00"), at("2026-10-25T02:00:00Z"));
    assert.equal(
      at("2026-11-01 01:30", "America/New_York"),
      at("2026-11-01T05:30:00Z"),
    );
  },
});

Deno.test({
  name: "parseWhen() asks for the zone only for a local date and time",
  permissions: "none",
  fn() {
    const context = {
      nowNs: NOW,
      timeZone(): string {
        throw new SyntaxError("no zone");
      },
    };
    for (
      const text of ["now", "+1h", "@5", "2026-04-01T02:00:00Z", `${NOW}`]
    ) {
      parseWhen(text, context);
    }
    assert.throws(() => parseWhen("2026-04-01 02:00", context), /no zone/);
  },
});

Deno.test({
  name: "parseWhen() reads now and durations from now",
  permissions: "none",
  fn() {
    assert.equal(at("now"), NOW);
    assert.equal(at("+10m"), NOW + 600n * S);
    assert.equal(at("+2h30m"), NOW + 9000n * S);
    assert.equal(at("+1d"), NOW + 86_400n * S);
    assert.equal(at("+45s"), NOW + 45n * S);
    assert.equal(at("+1500ms"), NOW + 1500n * 1_000_000n);
    assert.equal(at("+1d2h3m4s5ms"), NOW + 93_784_005_000_000n);
    assert.equal(at("+0s"), NOW);
    refused("+30m2h", /largest to smallest/);
    refused("+1h1h", /largest to smallest/);
    for (const text of ["+", "+5", "+1.5h", "+1H", "-10m", "+ 1h", "Now"]) {
      refused(text, /Cannot read time/);
    }
  },
});

Deno.test({
  name: "parseWhen() reads nanoseconds, @seconds and @milliseconds",
  permissions: "none",
  fn() {
    assert.equal(at("1775008800000000000"), APRIL_1_2AM_UTC);
    assert.equal(at("1000000000000000"), 1_000_000_000_000_000n);
    assert.equal(at("-1000000000000000"), -1_000_000_000_000_000n);
    assert.equal(at("9223372036854775807"), 2n ** 63n - 1n);
    refused("9223372036854775808", /out of range/);
    assert.equal(at("@1775008800"), APRIL_1_2AM_UTC);
    assert.equal(at("@1775008800000ms"), APRIL_1_2AM_UTC);
    assert.equal(at("@0"), 0n);
    assert.equal(at("@-1"), -S);
    refused("@", /Cannot read time/);
    refused("@1.5", /Cannot read time/);
    refused("@99999999999999999999", /out of range/);
  },
});

Deno.test({
  name: "parseWhen() refuses bare numbers shorter than 16 digits as ambiguous",
  permissions: "none",
  fn() {
    for (
      const text of [
        "1775008800",
        "1775008800000",
        "999999999999999",
        "0",
        "-5",
      ]
    ) {
      refused(text, /ambiguous, use @<seconds> or @<ms>ms$/);
    }
  },
});

Deno.test({
  name: "checkTimeZone() accepts IANA names and refuses unknown ones",
  permissions: "none",
  fn() {
    assert.equal(checkTimeZone("Europe/Paris"), "Europe/Paris");
    assert.equal(checkTimeZone("UTC"), "UTC");
    for (const zone of ["Mars/Olympus", "", "CET-1CEST"]) {
      assert.throws(() => checkTimeZone(zone), /unknown zone/, zone);
    }
  },
});
