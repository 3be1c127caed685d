import type { RuleOptions } from "./rule_options.ts";
import type { Runner } from "./runner.ts";

/**
 * An identifier, a job-id prefix, what to run and how (spec: README
 * glossary, extensions.md §1). `options` is absent when none were given.
 */
export interface Rule {
  readonly id: string;
  readonly pattern: string;
  readonly options?: RuleOptions;
  readonly runner: Runner;
}

/**
 * Picks the rule for a due job: longest matching pattern, then smallest
 * rule id in byte order (spec: protocol.md §7).
 *
 * @example Longest prefix wins
 * ```ts
 * import assert from "node:assert/strict";
 * import { findRule } from "./rule.ts";
 *
 * const runner = { kind: "shell", command: "true" } as const;
 * const rules = [
 *   { id: "any", pattern: "backup.", runner },
 *   { id: "daily", pattern: "backup.daily.", runner },
 * ];
 * assert.equal(findRule(rules, "backup.daily.7")?.id, "daily");
 * ```
 */
export function findRule(
  rules: Iterable<Rule>,
  jobId: string,
): Rule | undefined {
  let best: Rule | undefined;
  for (const rule of rules) {
    if (!jobId.startsWith(rule.pattern)) continue;
    if (
      best === undefined || rule.pattern.length > best.pattern.length ||
      (rule.pattern.length === best.pattern.length &&
        compareBytes(rule.id, best.id) < 0)
    ) {
      best = rule;
    }
  }
  return best;
}

/**
 * Compares two strings in UTF-8 byte order (which JS's UTF-16 `<` is not,
 * for characters above U+FFFF against U+E000–U+FFFF).
 */
export function compareBytes(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}
