import assert from "node:assert/strict";
import { compareBytes, findRule, type Rule } from "../../../src/domain/rule.ts";

const runner = { kind: "shell", command: "true" } as const;

Deno.test({
  name: "findRule() prefers the longest matching pattern",
  permissions: "none",
  fn() {
    const rules: Rule[] = [
      { id: "all", pattern: "", runner },
      { id: "backup", pattern: "backup.", runner },
      { id: "daily", pattern: "backup.daily", runner },
    ];
    assert.equal(findRule(rules, "backup.daily.1")?.id, "daily");
    assert.equal(findRule(rules, "backup.weekly")?.id, "backup");
    assert.equal(findRule(rules, "other")?.id, "all");
  },
});

Deno.test({
  name: "findRule() breaks a tie by the smallest rule id in byte order",
  permissions: "none",
  fn() {
    const rules: Rule[] = [
      { id: "b", pattern: "x.", runner },
      { id: "a", pattern: "x.", runner },
      { id: "c", pattern: "x.", runner },
    ];
    assert.equal(findRule(rules, "x.1")?.id, "a");
  },
});

Deno.test({
  name: "findRule() matches by plain prefix, without wildcards",
  permissions: "none",
  fn() {
    const rules: Rule[] = [{ id: "r", pattern: "backup.", runner }];
    assert.equal(findRule(rules, "backups.x"), undefined);
    assert.equal(findRule(rules, "backup."), rules[0]);
    assert.equal(
      findRule([{ id: "s", pattern: "a*", runner }], "abc"),
      undefined,
    );
  },
});

Deno.test({
  name: "compareBytes() orders like UTF-8 bytes, not UTF-16 units",
  permissions: "none",
  fn() {
    // U+FF61 is EF BD A1 in UTF-8; U+1F600 is F0 9F 98 80: larger in bytes,
    // although its UTF-16 surrogate D83D is smaller than FF61.
    assert.ok(compareBytes("\u{ff61}", "\u{1f600}") < 0);
    assert.ok(compareBytes("a", "ab") < 0);
    assert.equal(compareBytes("abc", "abc"), 0);
  },
});
