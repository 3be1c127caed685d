/**
 * The `<when>` of `ztick set`: every form a script may write, turned into
 * nanoseconds since the epoch (spec: client.md §2). Pure: the current time
 * and the local zone are given.
 *
 * @module
 */

const NS_PER_MS = 1_000_000n;
const NS_PER_SECOND = 1_000_000_000n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Relative units, largest first: `+2h30m` names them in this order. */
const UNITS: readonly (readonly [string, bigint])[] = [
  ["d", 86_400n * NS_PER_SECOND],
  ["h", 3_600n * NS_PER_SECOND],
  ["m", 60n * NS_PER_SECOND],
  ["s", NS_PER_SECOND],
  ["ms", NS_PER_MS],
];
const RELATIVE = /^\+((?:[0-9]+(?:ms|d|h|m|s))+)$/;
const RELATIVE_PART = /([0-9]+)(ms|d|h|m|s)/g;
const NANOSECONDS = /^-?[0-9]{16,}$/;
const SHORT_NUMBER = /^-?[0-9]{1,15}$/;
const EPOCH = /^@(-?[0-9]+)(ms)?$/;
const DATETIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))?$/;

/** What a `<when>` is read against. */
export interface WhenContext {
  /** Now, in nanoseconds since the epoch: for `now` and `+10m`. */
  readonly nowNs: bigint;
  /**
   * The zone of a local date and time (`--tz`, else the client's own);
   * called only for that form, so the environment is read only then. It
   * may throw `SyntaxError` when no usable zone is known.
   */
  readonly timeZone: () => string;
}

/**
 * Reads a `<when>`: RFC 3339 with an offset (fractions to the nanosecond),
 * a local date and time in `context.timeZone()` (a time skipped by a DST
 * change means the first instant after the gap, a repeated one its first
 * occurrence), `now`, `+2h30m`, nanoseconds (at least 16 digits),
 * `@<seconds>` or `@<ms>ms`. Throws `SyntaxError` with the problem, e.g.
 * for a shorter bare number, which could be seconds or milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWhen } from "./when.ts";
 *
 * const context = { nowNs: 0n, timeZone: () => "Europe/Paris" };
 * assert.equal(parseWhen("2026-04-01T02:00:00Z", context), 1775008800000000000n);
 * assert.equal(parseWhen("2026-04-01 04:00", context), 1775008800000000000n);
 * assert.equal(parseWhen("@1775008800", context), 1775008800000000000n);
 * assert.equal(parseWhen("+1m30s", context), 90_000_000_000n);
 * assert.throws(() => parseWhen("1775008800", context), /use @<seconds> or @<ms>ms/);
 * ```
 */
export function parseWhen(text: string, context: WhenContext): bigint {
  if (text === "now") return context.nowNs;
  if (RELATIVE.test(text)) {
    return inRange(context.nowNs + relativeNs(text), text);
  }
  if (NANOSECONDS.test(text)) return inRange(BigInt(text), text);
  if (SHORT_NUMBER.test(text)) {
    throw new SyntaxError(
      `Cannot read time "${text}": ambiguous, use @<seconds> or @<ms>ms`,
    );
  }
  const epoch = EPOCH.exec(text);
  if (epoch) {
    const unit = epoch[2] === undefined ? NS_PER_SECOND : NS_PER_MS;
    return inRange(BigInt(epoch[1]!) * unit, text);
  }
  const datetime = DATETIME.exec(text);
  if (datetime) return inRange(datetimeNs(text, datetime, context), text);
  throw new SyntaxError(
    `Cannot read time "${text}": expected an RFC 3339 time, a local date and time, now, +<duration>, nanoseconds, @<seconds> or @<ms>ms`,
  );
}

/** `+2h30m` in nanoseconds; units largest first, each at most once. */
function relativeNs(text: string): bigint {
  let total = 0n;
  let next = 0;
  for (const [, digits, unit] of text.matchAll(RELATIVE_PART)) {
    const index = UNITS.findIndex(([name]) => name === unit);
    if (index < next) {
      throw new SyntaxError(
        `Cannot read time "${text}": units must go from largest to smallest, each once`,
      );
    }
    next = index + 1;
    total += BigInt(digits!) * UNITS[index]![1];
  }
  return total;
}

function datetimeNs(
  text: string,
  match: RegExpExecArray,
  context: WhenContext,
): bigint {
  const [, year, month, day, hour, minute, second, fraction] = match;
  const nanos = (fraction ?? "").padEnd(9, "0");
  let civil: Temporal.PlainDateTime;
  try {
    civil = Temporal.PlainDateTime.from({
      year: Number(year),
      month: Number(month),
      day: Number(day),
      hour: Number(hour),
      minute: Number(minute),
      second: Number(second ?? 0),
      millisecond: Number(nanos.slice(0, 3)),
      microsecond: Number(nanos.slice(3, 6)),
      nanosecond: Number(nanos.slice(6)),
    }, { overflow: "reject" });
  } catch {
    throw new SyntaxError(`Cannot read time "${text}": no such date or time`);
  }
  const [zulu, sign, offsetHours, offsetMinutes] = match.slice(8);
  if (zulu !== undefined || sign !== undefined) {
    const hours = Number(offsetHours ?? 0);
    const minutes = Number(offsetMinutes ?? 0);
    if (hours > 23 || minutes > 59) {
      throw new SyntaxError(`Cannot read time "${text}": no such offset`);
    }
    const offsetNs = BigInt((hours * 60 + minutes) * 60) * NS_PER_SECOND;
    const utc = civil.toZonedDateTime("UTC").epochNanoseconds;
    return utc - (sign === "-" ? -offsetNs : offsetNs);
  }
  return localNs(civil, context.timeZone());
}

/**
 * A wall-clock time in a zone: its first occurrence when the clocks went
 * back over it, the first instant after the gap when they skipped it.
 */
function localNs(civil: Temporal.PlainDateTime, zone: string): bigint {
  const earlier = civil.toZonedDateTime(zone, { disambiguation: "earlier" });
  if (Temporal.PlainDateTime.compare(earlier.toPlainDateTime(), civil) === 0) {
    return earlier.epochNanoseconds;
  }
  // In a gap, "earlier" moved back by its length: the gap ends at the next
  // transition.
  return earlier.getTimeZoneTransition("next")!.epochNanoseconds;
}

/**
 * Checks a time zone name the way local times will use it; throws
 * `SyntaxError` for an unknown one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTimeZone } from "./when.ts";
 *
 * assert.equal(checkTimeZone("Europe/Paris"), "Europe/Paris");
 * assert.throws(() => checkTimeZone("Mars/Olympus"), SyntaxError);
 * ```
 */
export function checkTimeZone(zone: string): string {
  try {
    return Temporal.ZonedDateTime.from({
      year: 2000,
      month: 1,
      day: 1,
      timeZone: zone,
    }).timeZoneId;
  } catch {
    throw new SyntaxError(`Cannot use time zone "${zone}": unknown zone`);
  }
}

function inRange(ns: bigint, text: string): bigint {
  if (ns < INT64_MIN || ns > INT64_MAX) {
    throw new SyntaxError(`Cannot read time "${text}": out of range`);
  }
  return ns;
}
