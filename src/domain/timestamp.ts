const NS_PER_SECOND = 1_000_000_000n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER = /^-?[0-9]+$/;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const TIME = /^([0-9]{2}):([0-9]{2}):([0-9]{2})$/;
const RFC3339 =
  /^([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,9}))?(?:(Z)|([+-])([0-9]{2}):([0-9]{2}))$/;

/**
 * Reads the execution time of a SET from its timestamp tokens: one integer
 * of nanoseconds, a `YYYY-MM-DD HH:MM:SS` pair, or that pair as one quoted
 * token, always UTC (spec: protocol.md §5). Throws `SyntaxError` otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTimestamp } from "./timestamp.ts";
 *
 * assert.equal(
 *   parseTimestamp(["2026-04-01", "02:00:00"]),
 *   1775008800000000000n,
 * );
 * assert.equal(parseTimestamp(["-5"]), -5n);
 * ```
 */
export function parseTimestamp(tokens: readonly string[]): bigint {
  if (tokens.length === 1) {
    const token = tokens[0]!;
    if (INTEGER.test(token)) return checkRange(BigInt(token), token);
    const space = token.indexOf(" ");
    if (space === 10) {
      return parseDatetime(token.slice(0, 10), token.slice(11));
    }
  } else if (tokens.length === 2) {
    return parseDatetime(tokens[0]!, tokens[1]!);
  }
  throw new SyntaxError(`Cannot read timestamp "${tokens.join(" ")}"`);
}

/** Reads a signed 64-bit decimal integer; throws `SyntaxError` otherwise. */
export function parseInt64(text: string): bigint {
  if (!INTEGER.test(text)) {
    throw new SyntaxError(`Cannot read integer "${text}"`);
  }
  return checkRange(BigInt(text), text);
}

/**
 * Reads an RFC 3339 date-time, `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`,
 * into nanoseconds since the epoch: the offset is honoured, a fraction is
 * kept to the nanosecond (at most 9 digits), the value must fit a signed
 * 64-bit count (spec: http-api.md §4). `T` and `Z` are upper case; a leap
 * second (`:60`) is refused. Throws `SyntaxError` otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRfc3339 } from "./timestamp.ts";
 *
 * assert.equal(parseRfc3339("2026-04-10T12:00:00Z"), 1775822400000000000n);
 * assert.equal(parseRfc3339("2026-04-10T14:00:00+02:00"), 1775822400000000000n);
 * assert.equal(parseRfc3339("2026-04-10T12:00:00.000000001Z"), 1775822400000000001n);
 * ```
 */
export function parseRfc3339(text: string): bigint {
  const match = RFC3339.exec(text);
  if (!match) {
    throw new SyntaxError(`Cannot read RFC 3339 time "${text}"`);
  }
  const [, date, time, fraction = "", zulu, sign, offH, offM] = match;
  const utcNs = datetimeSeconds(date!, time!) * NS_PER_SECOND;
  let offsetS = 0n;
  if (zulu === undefined) {
    const hours = Number(offH);
    const minutes = Number(offM);
    if (hours > 23 || minutes > 59) {
      throw new SyntaxError(`Cannot read RFC 3339 time "${text}": bad offset`);
    }
    offsetS = BigInt((hours * 60 + minutes) * 60) * (sign === "-" ? -1n : 1n);
  }
  const ns = utcNs - offsetS * NS_PER_SECOND +
    BigInt(fraction.padEnd(9, "0") || "0");
  return checkRange(ns, text);
}

function parseDatetime(dateText: string, timeText: string): bigint {
  const seconds = datetimeSeconds(dateText, timeText);
  return checkRange(seconds * NS_PER_SECOND, `${dateText} ${timeText}`);
}

/** Seconds since the epoch of a UTC `YYYY-MM-DD` and `HH:MM:SS`, checked. */
function datetimeSeconds(dateText: string, timeText: string): bigint {
  const date = DATE.exec(dateText);
  const time = TIME.exec(timeText);
  const text = `${dateText} ${timeText}`;
  if (!date || !time) {
    throw new SyntaxError(`Cannot read timestamp "${text}": not a datetime`);
  }
  const [year, month, day] = date.slice(1).map(Number) as [
    number,
    number,
    number,
  ];
  const [hour, minute, second] = time.slice(1).map(Number) as [
    number,
    number,
    number,
  ];
  if (
    month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) ||
    hour > 23 || minute > 59 || second > 59
  ) {
    throw new SyntaxError(`Cannot read timestamp "${text}": no such time`);
  }
  const days = daysFromCivil(year, month, day);
  return BigInt(days) * 86_400n + BigInt(hour * 3600 + minute * 60 + second);
}

function checkRange(value: bigint, text: string): bigint {
  if (value < INT64_MIN || value > INT64_MAX) {
    throw new SyntaxError(`Cannot read timestamp "${text}": out of range`);
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) +
    day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) -
    Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * Writes nanoseconds since the epoch as a UTC RFC 3339 time, with a
 * fraction only when there is one, cut after its last significant digit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTimestamp } from "./timestamp.ts";
 *
 * assert.equal(formatTimestamp(1775008800000000000n), "2026-04-01T02:00:00Z");
 * assert.equal(formatTimestamp(1775008800n), "1970-01-01T00:00:01.7750088Z");
 * assert.equal(formatTimestamp(-1n), "1969-12-31T23:59:59.999999999Z");
 * ```
 */
export function formatTimestamp(ns: bigint): string {
  return Temporal.Instant.fromEpochNanoseconds(ns).toString();
}
