/**
 * A recurring job's schedule: a cron expression, the time zone it is read
 * in and what happens to occurrences missed meanwhile; read from CRON
 * tokens (and HTTP fields), checked, stored canonically (spec:
 * extensions.md §4). Occurrences are computed in `cron.ts`.
 *
 * @module
 */

/** What happens to occurrences that passed during a run or a downtime. */
export type Catchup = "skip" | "once" | "all";

/** The `catchup` policies, as clients write them. */
export const CATCHUPS: readonly Catchup[] = ["skip", "once", "all"];

/** A checked schedule; identical schedules share one object. */
export interface Schedule {
  /** Fields separated by single spaces, or a `@` nickname as given. */
  readonly expression: string;
  /** An IANA zone name as given, or `UTC`. */
  readonly tz: string;
  readonly catchup: Catchup;
}

/** The zone a schedule is read in when `tz` is not given. */
export const DEFAULT_TZ = "UTC";
/** The policy when `catchup` is not given. */
export const DEFAULT_CATCHUP: Catchup = "once";

/** The nicknames and the five fields each stands for. */
export const NICKNAMES: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Upper-case names, valued from `min` on. */
  readonly names?: readonly string[];
}

const MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(" ");
const DAYS = "SUN MON TUE WED THU FRI SAT".split(" ");
const FIVE_FIELDS: readonly Field[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS },
  { name: "day-of-week", min: 0, max: 7, names: DAYS },
];
const SECONDS: Field = { name: "second", min: 0, max: 59 };
const ITEM = /^(?:(\*)|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:\/([0-9]+))?$/;

/**
 * Checks a cron expression and returns it in stored form: fields joined by
 * single spaces, or a lower-case nickname as given. Throws `SyntaxError`
 * for anything extensions.md §4 does not allow (`?`, `L`, `W`, `#`, seven
 * fields, a step of 0, a range that runs backwards, a value out of range).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeExpression } from "./schedule.ts";
 *
 * assert.equal(normalizeExpression("30  2\t* * mon-FRI"), "30 2 * * mon-FRI");
 * assert.equal(normalizeExpression("@weekly"), "@weekly");
 * assert.throws(() => normalizeExpression("0 0 L * *"), SyntaxError);
 * ```
 */
export function normalizeExpression(expression: string): string {
  if (expression.startsWith("@")) {
    if (Object.hasOwn(NICKNAMES, expression)) return expression;
    throw new SyntaxError(`unknown cron nickname "${expression}"`);
  }
  const fields = expression.trim().split(/[ \t]+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new SyntaxError(
      `a cron expression has 5 or 6 fields, not ${fields.length}`,
    );
  }
  const kinds = fields.length === 6 ? [SECONDS, ...FIVE_FIELDS] : FIVE_FIELDS;
  fields.forEach((text, i) => checkField(text, kinds[i]!));
  return fields.join(" ");
}

/** The fields of a stored expression, nicknames expanded, seconds first. */
export function expressionFields(expression: string): string[] {
  const fields = (NICKNAMES[expression] ?? expression).split(" ");
  return fields.length === 5 ? ["0", ...fields] : fields;
}

function checkField(text: string, field: Field): void {
  for (const item of text.split(",")) {
    const match = ITEM.exec(item);
    if (match === null) {
      throw new SyntaxError(`invalid ${field.name} field "${text}"`);
    }
    const [, star, from, to, step] = match;
    if (step !== undefined && Number(step) === 0) {
      throw new SyntaxError(`step of 0 in ${field.name} field "${text}"`);
    }
    if (star !== undefined) continue;
    if (step !== undefined && to === undefined) {
      throw new SyntaxError(`a step needs * or a range: "${item}"`);
    }
    const low = fieldValue(from!, field);
    if (to !== undefined && fieldValue(to, field) < low) {
      throw new SyntaxError(`backward range "${item}" in ${field.name}`);
    }
  }
}

function fieldValue(text: string, field: Field): number {
  let value: number;
  if (/^[0-9]+$/.test(text)) value = Number(text);
  else {
    const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
    if (index < 0) {
      throw new SyntaxError(`invalid ${field.name} value "${text}"`);
    }
    value = field.min + index;
  }
  if (value < field.min || value > field.max) {
    throw new SyntaxError(`${field.name} value ${text} out of range`);
  }
  return value;
}

let zones: Set<string> | undefined;

/** Tells whether `tz` is `UTC` or listed by `Intl.supportedValuesOf`. */
export function isTimeZone(tz: string): boolean {
  zones ??= new Set(Intl.supportedValuesOf("timeZone"));
  return tz === DEFAULT_TZ || zones.has(tz);
}

/** Tells whether a string names a catchup policy. */
export function isCatchup(value: string): value is Catchup {
  return (CATCHUPS as readonly string[]).includes(value);
}

const interned = new Map<string, Schedule>();
/** Distinct schedules kept for sharing; beyond, new ones are not shared. */
const INTERNED_MAX = 10_000;

/**
 * Builds a checked schedule; identical ones share one frozen object, so a
 * hundred thousand jobs on `@daily` cost one schedule. Throws
 * `SyntaxError` for a bad expression, zone or policy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSchedule } from "./schedule.ts";
 *
 * const a = parseSchedule("0  2 * * *", { tz: "Europe/Paris" });
 * assert.deepEqual(a, {
 *   expression: "0 2 * * *", tz: "Europe/Paris", catchup: "once",
 * });
 * assert.equal(parseSchedule("0 2 * * *", { tz: "Europe/Paris" }), a);
 * assert.throws(() => parseSchedule("@daily", { tz: "Mars/Olympus" }));
 * ```
 */
export function parseSchedule(
  expression: string,
  options: { readonly tz?: string; readonly catchup?: string } = {},
): Schedule {
  const { tz = DEFAULT_TZ, catchup = DEFAULT_CATCHUP } = options;
  if (!isTimeZone(tz)) throw new SyntaxError(`unknown time zone "${tz}"`);
  if (!isCatchup(catchup)) {
    throw new SyntaxError(`unknown catchup policy "${catchup}"`);
  }
  // a stored (canonical) expression, as replay reads it, is found at once
  const given = interned.get(`${expression}\n${tz}\n${catchup}`);
  if (given !== undefined) return given;
  const canonical = normalizeExpression(expression);
  const key = `${canonical}\n${tz}\n${catchup}`;
  const found = interned.get(key);
  if (found !== undefined) return found;
  const schedule = Object.freeze({ expression: canonical, tz, catchup });
  if (interned.size < INTERNED_MAX) interned.set(key, schedule);
  return schedule;
}

/**
 * Reads CRON's option tokens after the expression (`tz=<zone>`,
 * `catchup=<policy>`, each at most once, in any order) into a schedule;
 * throws `SyntaxError` for an unknown or repeated option, an empty value,
 * a bad zone, policy or expression (spec: extensions.md §4).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCronArgs } from "./schedule.ts";
 *
 * assert.equal(parseCronArgs("@weekly", ["catchup=skip"]).catchup, "skip");
 * assert.throws(() => parseCronArgs("@weekly", ["tz="]), SyntaxError);
 * ```
 */
export function parseCronArgs(
  expression: string,
  tokens: readonly string[],
): Schedule {
  const given: { tz?: string; catchup?: string } = {};
  for (const token of tokens) {
    const at = token.indexOf("=");
    const key = at < 0 ? token : token.slice(0, at);
    const value = token.slice(at + 1);
    if (at < 0 || (key !== "tz" && key !== "catchup")) {
      throw new SyntaxError(`unknown CRON argument "${token}"`);
    }
    if (given[key] !== undefined) throw new SyntaxError(`${key} given twice`);
    if (value === "") throw new SyntaxError(`empty ${key}`);
    given[key] = value;
  }
  return parseSchedule(expression, given);
}
