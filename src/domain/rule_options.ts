/**
 * Rule options: retries, their backoff, and a per-rule timeout. Read from
 * RULE SET tokens (and from a JSON object for HTTP), checked, written back
 * canonically (spec: extensions.md §1, §2).
 *
 * @module
 */
import { formatDuration, parseDuration } from "./duration.ts";

/**
 * The options a rule was given; an absent field takes its default. Only
 * given fields are rendered, so `retries=0` stays visible.
 */
export interface RuleOptions {
  /** Retries after a failed execution, 0–100 (default 0). */
  readonly retries?: number;
  /** Delay before the first retry, at least 1 ms (default 10 s). */
  readonly backoffMs?: number;
  /** Upper bound of a retry delay, at least the backoff (default 1 h). */
  readonly maxBackoffMs?: number;
  /** Limit of this rule's executions, 0 = none (default: the configured one). */
  readonly timeoutMs?: number;
}

/** The option keys, in the order they are rendered. */
export const OPTION_KEYS = [
  "retries",
  "backoff",
  "max_backoff",
  "timeout",
] as const;

/** One option key as clients write it. */
export type OptionKey = typeof OPTION_KEYS[number];

/** The delay before the first retry when `backoff` is not given: 10 s. */
export const DEFAULT_BACKOFF_MS = 10_000;
/** The upper bound of a retry delay when `max_backoff` is not given: 1 h. */
export const DEFAULT_MAX_BACKOFF_MS = 3_600_000;
const MAX_RETRIES = 100;

type Draft = { -readonly [K in keyof RuleOptions]: RuleOptions[K] };

/**
 * Tells whether a RULE SET token between the pattern and the runner type
 * is an option: it contains `=`, which runner types never do.
 */
export function isOptionToken(token: string): boolean {
  return token.includes("=");
}

/**
 * Reads option tokens (`key=value`, one token each); `undefined` when there
 * are none. Throws `SyntaxError` for an unknown key, a key given twice, an
 * empty key or value, a second `=`, a value out of range or of the wrong
 * type, `backoff=0`, or a `max_backoff` below the backoff (spec:
 * extensions.md §1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRuleOptions } from "./rule_options.ts";
 *
 * assert.deepEqual(parseRuleOptions(["backoff=30s", "retries=05"]), {
 *   retries: 5,
 *   backoffMs: 30_000,
 * });
 * assert.equal(parseRuleOptions([]), undefined);
 * assert.throws(() => parseRuleOptions(["retries=3=4"]), SyntaxError);
 * assert.throws(() => parseRuleOptions(["max_backoff=5s"]), SyntaxError);
 * ```
 */
export function parseRuleOptions(
  tokens: readonly string[],
): RuleOptions | undefined {
  const draft: Draft = {};
  const seen = new Set<string>();
  for (const token of tokens) {
    const equals = token.indexOf("=");
    const key = token.slice(0, equals);
    const value = token.slice(equals + 1);
    if (equals <= 0 || value === "" || value.includes("=")) {
      throw new SyntaxError(`rule option "${token}" is not key=value`);
    }
    setOption(draft, seen, key, value);
  }
  return finish(draft);
}

/**
 * Reads options from a JSON object, as PUT /rules carries them: `retries`
 * a number, durations strings in the protocol's syntax; `undefined` for an
 * empty object. Throws `SyntaxError` as {@link parseRuleOptions} does, and
 * for anything that is not such an object (spec: http-api.md §4).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ruleOptionsFromObject } from "./rule_options.ts";
 *
 * assert.deepEqual(ruleOptionsFromObject({ retries: 5, timeout: "2m" }), {
 *   retries: 5,
 *   timeoutMs: 120_000,
 * });
 * assert.throws(() => ruleOptionsFromObject({ retries: "5" }), SyntaxError);
 * assert.throws(() => ruleOptionsFromObject({ backoff: 30 }), SyntaxError);
 * ```
 */
export function ruleOptionsFromObject(value: unknown): RuleOptions | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SyntaxError("rule options must be an object");
  }
  const draft: Draft = {};
  const seen = new Set<string>();
  for (const [key, item] of Object.entries(value)) {
    // JSON types: retries a number, durations strings.
    const isNumber = typeof item === "number";
    if (
      isNumber !== (key === "retries") ||
      (!isNumber && typeof item !== "string")
    ) {
      throw new SyntaxError(`rule option "${key}" has the wrong type`);
    }
    setOption(draft, seen, key, item as string | number);
  }
  return finish(draft);
}

/**
 * The options as canonical tokens, in the order `retries`, `backoff`,
 * `max_backoff`, `timeout`, durations in their largest exact unit (spec:
 * extensions.md §1): what LISTRULES and the logfile show.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ruleOptionTokens } from "./rule_options.ts";
 *
 * assert.deepEqual(
 *   ruleOptionTokens({ timeoutMs: 0, backoffMs: 120_000, retries: 5 }),
 *   ["retries=5", "backoff=2m", "timeout=0s"],
 * );
 * assert.deepEqual(ruleOptionTokens(undefined), []);
 * ```
 */
export function ruleOptionTokens(options: RuleOptions | undefined): string[] {
  return optionEntries(options).map(([key, value]) => `${key}=${value}`);
}

/**
 * The options as a JSON-ready object, keys in canonical order, `retries` a
 * number and durations canonical strings (spec: extensions.md §5).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ruleOptionsObject } from "./rule_options.ts";
 *
 * assert.equal(
 *   JSON.stringify(ruleOptionsObject({ backoffMs: 30_000, retries: 5 })),
 *   '{"retries":5,"backoff":"30s"}',
 * );
 * ```
 */
export function ruleOptionsObject(
  options: RuleOptions | undefined,
): Record<string, number | string> {
  return Object.fromEntries(optionEntries(options));
}

/**
 * The delay before retry number `attempt` (the attempt that just failed):
 * `min(max_backoff, backoff × 2^(attempt−1) × (1 + jitter))`, with
 * `jitter` in [0, 0.1) (spec: extensions.md §2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { retryDelayMs } from "./rule_options.ts";
 *
 * const options = { retries: 3, backoffMs: 200, maxBackoffMs: 700 };
 * assert.equal(retryDelayMs(options, 1, 0), 200);
 * assert.equal(retryDelayMs(options, 2, 0.05), 420);
 * assert.equal(retryDelayMs(options, 3, 0), 700);
 * ```
 */
export function retryDelayMs(
  options: RuleOptions | undefined,
  attempt: number,
  jitter: number,
): number {
  const backoffMs = options?.backoffMs ?? DEFAULT_BACKOFF_MS;
  const maxMs = options?.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  return Math.min(maxMs, backoffMs * 2 ** (attempt - 1) * (1 + jitter));
}

function setOption(
  draft: Draft,
  seen: Set<string>,
  key: string,
  value: string | number,
): void {
  if (seen.has(key)) throw new SyntaxError(`rule option "${key}" given twice`);
  seen.add(key);
  switch (key) {
    case "retries":
      draft.retries = retriesValue(value);
      break;
    case "backoff":
      draft.backoffMs = durationValue(key, value);
      if (draft.backoffMs < 1) {
        throw new SyntaxError("rule option backoff must be at least 1ms");
      }
      break;
    case "max_backoff":
      draft.maxBackoffMs = durationValue(key, value);
      break;
    case "timeout":
      draft.timeoutMs = durationValue(key, value);
      break;
    default:
      throw new SyntaxError(`unknown rule option "${key}"`);
  }
}

function retriesValue(value: string | number): number {
  const retries = typeof value === "number"
    ? value
    : /^[0-9]+$/.test(value)
    ? Number(value)
    : NaN;
  if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
    throw new SyntaxError(`rule option retries must be 0-${MAX_RETRIES}`);
  }
  return retries;
}

function durationValue(key: string, value: string | number): number {
  if (typeof value !== "string") {
    throw new SyntaxError(`rule option ${key} must be a duration string`);
  }
  return parseDuration(value);
}

/** Checks what spans options (the backoff bound); `undefined` when empty. */
function finish(draft: Draft): RuleOptions | undefined {
  const backoffMs = draft.backoffMs ?? DEFAULT_BACKOFF_MS;
  const maxMs = draft.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  if (maxMs < backoffMs) {
    throw new SyntaxError(
      `rule option max_backoff ${formatDuration(maxMs)} is below backoff ${
        formatDuration(backoffMs)
      }`,
    );
  }
  return Object.keys(draft).length === 0 ? undefined : draft;
}

function optionEntries(
  options: RuleOptions | undefined,
): [OptionKey, number | string][] {
  if (options === undefined) return [];
  const entries: [OptionKey, number | string][] = [];
  const { retries, backoffMs, maxBackoffMs, timeoutMs } = options;
  if (retries !== undefined) entries.push(["retries", retries]);
  if (backoffMs !== undefined) {
    entries.push(["backoff", formatDuration(backoffMs)]);
  }
  if (maxBackoffMs !== undefined) {
    entries.push(["max_backoff", formatDuration(maxBackoffMs)]);
  }
  if (timeoutMs !== undefined) {
    entries.push(["timeout", formatDuration(timeoutMs)]);
  }
  return entries;
}
