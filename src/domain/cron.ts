/**
 * Occurrences of a schedule, on croner (npm:croner) behind a thin wrapper.
 * Croner matches the fields against wall-clock times written as UTC; the
 * wrapper maps them to instants in the schedule's zone with the rules of
 * extensions.md §4, which differ from croner's own time-zone handling:
 * a local time in a spring-forward gap fires once at the first instant
 * after the gap (croner skips it for jobs with a wildcard or list), and a
 * repeated local time fires once when the hour field is fixed (croner
 * counts `*\/15 2 * * *` or `0 1,2 * * *` as interval jobs). It also picks
 * croner's day-of-month/day-of-week AND when either field starts with `*`
 * (croner ORs `*\/10` with a weekday; classic cron does not).
 *
 * @module
 */
import { Cron } from "croner";
import { instantsOf, offsetsNear, wallOf } from "./_zone.ts";
import { expressionFields, type Schedule } from "./schedule.ts";

const NS_PER_MS = 1_000_000n;
/** An expression must have an occurrence within this (extensions.md §4). */
export const HORIZON_NS = 1827n * 86_400n * 1_000_000_000n;
/** `catchup=all` keeps at most this many past occurrences. */
export const CATCHUP_ALL_MAX = 1000;
const SCAN_MAX = 100_000;

interface Compiled {
  readonly cron: Cron;
  readonly tz: string;
  /** The hour field names fixed hours (neither `*` nor a step). */
  readonly fixedHour: boolean;
  /**
   * The last answer of {@link nextOccurrence}: `next` is the first
   * occurrence after every instant in [`from`, `next`), so jobs sharing a
   * schedule (a CRON burst, a hundred thousand `@daily` jobs re-planned
   * together) compute it once.
   */
  memo?: { readonly from: bigint; readonly next: bigint };
}

const compiled = new Map<string, Compiled>();
const COMPILED_MAX = 10_000;

function compile(schedule: Schedule): Compiled {
  const key = `${schedule.expression}\n${schedule.tz}`;
  const found = compiled.get(key);
  if (found !== undefined) return found;
  const fields = expressionFields(schedule.expression);
  const [, , hour = "*", dom = "*", , dow = "*"] = fields;
  const cron = new Cron(fields.join(" "), {
    timezone: "UTC",
    mode: "6-part",
    domAndDow: dom.startsWith("*") || dow.startsWith("*"),
  });
  const fixedHour = !hour.startsWith("*") && !hour.includes("/");
  const made: Compiled = { cron, tz: schedule.tz, fixedHour };
  if (compiled.size < COMPILED_MAX) compiled.set(key, made);
  return made;
}

/** The instants a matching wall time fires at, earliest first. */
function firings(c: Compiled, wallMs: number): number[] {
  const instants = instantsOf(c.tz, wallMs);
  return c.fixedHour && instants.length > 1 ? [instants[0]!] : instants;
}

function afterMs(c: Compiled, fromMs: number): number | undefined {
  if (c.tz === "UTC") return c.cron.nextRun(new Date(fromMs))?.getTime();
  const [low] = offsetsNear(c.tz, fromMs);
  let cursor = fromMs + low - 1;
  let best: number | undefined;
  let bound = 0; // walls beyond the best one's wall + bound cannot beat it
  let bestWall = 0;
  for (let i = 0; i < SCAN_MAX; i++) {
    if (best !== undefined && cursor - bestWall >= bound) break;
    const wall = c.cron.nextRun(new Date(cursor))?.getTime();
    if (wall === undefined) break;
    for (const instant of firings(c, wall)) {
      if (instant > fromMs && (best === undefined || instant < best)) {
        best = instant;
        bestWall = wallOf(c.tz, instant);
        const [, high] = offsetsNear(c.tz, instant);
        bound = high - (bestWall - instant);
      }
    }
    cursor = wall;
  }
  return best;
}

function atOrBeforeMs(c: Compiled, toMs: number): number | undefined {
  const [, high] = offsetsNear(c.tz, toMs);
  let cursor = toMs + high + 1;
  let best: number | undefined;
  let bound = 0;
  let bestWall = 0;
  for (let i = 0; i < SCAN_MAX; i++) {
    if (best !== undefined && bestWall - cursor >= bound) break;
    const wall = c.cron.previousRuns(1, new Date(cursor))[0]?.getTime();
    if (wall === undefined) break;
    for (const instant of firings(c, wall)) {
      if (instant <= toMs && (best === undefined || instant > best)) {
        best = instant;
        bestWall = wallOf(c.tz, instant);
        const [low] = offsetsNear(c.tz, instant);
        bound = bestWall - instant - low;
      }
    }
    cursor = wall;
  }
  return best;
}

function toMs(ns: bigint): number {
  return Number(ns / NS_PER_MS);
}

/**
 * The first occurrence strictly after `fromNs`, in ns; `undefined` when
 * there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nextOccurrence } from "./cron.ts";
 * import { parseSchedule } from "./schedule.ts";
 *
 * const nightly = parseSchedule("0 2 * * *", { tz: "Europe/Paris" });
 * const jan1 = BigInt(Date.UTC(2027, 0, 1)) * 1_000_000n;
 * assert.equal(
 *   nextOccurrence(nightly, jan1),
 *   BigInt(Date.UTC(2027, 0, 1, 1)) * 1_000_000n, // 02:00 CET
 * );
 * ```
 */
export function nextOccurrence(
  schedule: Schedule,
  fromNs: bigint,
): bigint | undefined {
  const c = compile(schedule);
  const { memo } = c;
  if (memo !== undefined && memo.from <= fromNs && fromNs < memo.next) {
    return memo.next;
  }
  // occurrences are whole seconds: the first after fromNs's millisecond
  const found = afterMs(c, toMs(fromNs));
  if (found === undefined) return undefined;
  const next = BigInt(found) * NS_PER_MS;
  c.memo = { from: fromNs, next };
  return next;
}

/** The latest occurrence at or before `toNs`, in ns. */
export function latestOccurrence(
  schedule: Schedule,
  toNs: bigint,
): bigint | undefined {
  const found = atOrBeforeMs(compile(schedule), toMs(toNs));
  return found === undefined ? undefined : BigInt(found) * NS_PER_MS;
}

/**
 * The first occurrence after `nowNs` if it lies within five years, else
 * `undefined`: what CRON plans, and why it refuses `0 0 30 2 *`.
 */
export function firstOccurrence(
  schedule: Schedule,
  nowNs: bigint,
): bigint | undefined {
  const next = nextOccurrence(schedule, nowNs);
  return next !== undefined && next - nowNs <= HORIZON_NS ? next : undefined;
}

/**
 * The next execution time of a recurring job after the run that started
 * at occurrence `handledNs`, as its `catchup` policy says (spec:
 * extensions.md §4): `skip` the first occurrence after now; `once` the
 * latest past occurrence after `handledNs`, or the next one; `all` the
 * first after `handledNs`, past or not, at most 1000 behind.
 */
export function nextPlanned(
  schedule: Schedule,
  handledNs: bigint,
  nowNs: bigint,
): bigint | undefined {
  if (schedule.catchup === "skip") return nextOccurrence(schedule, nowNs);
  const next = nextOccurrence(schedule, handledNs);
  if (next === undefined || next > nowNs) return next;
  if (schedule.catchup === "once") {
    return latestOccurrence(schedule, nowNs) ?? next;
  }
  if (
    countPast(schedule, next, nowNs, CATCHUP_ALL_MAX + 1) <= CATCHUP_ALL_MAX
  ) {
    return next;
  }
  const c = compile(schedule);
  const walls = c.cron.previousRuns(
    CATCHUP_ALL_MAX,
    new Date(wallOf(c.tz, toMs(nowNs)) + 1),
  );
  const earliest = walls.at(-1)?.getTime();
  if (earliest === undefined) return next;
  const floor = BigInt(firings(c, earliest)[0]!) * NS_PER_MS;
  return floor > next ? floor : next;
}

/**
 * How many occurrences after `fromNs` (itself one) are at or before
 * `nowNs`, counting up to `limit`.
 */
export function countPast(
  schedule: Schedule,
  fromNs: bigint,
  nowNs: bigint,
  limit: number,
): number {
  let count = 0;
  for (
    let at: bigint | undefined = fromNs;
    at !== undefined && at <= nowNs && count < limit;
    at = nextOccurrence(schedule, at)
  ) count++;
  return count;
}
