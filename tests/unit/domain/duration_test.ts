import assert from "node:assert/strict";
import {
  formatDuration,
  MAX_DURATION_MS,
  parseDuration,
} from "../../../src/domain/duration.ts";

Deno.test({
  name: "parseDuration() reads every unit, bare seconds and leading zeros",
  permissions: "none",
  fn() {
    const cases: [string, number][] = [
      ["1500ms", 1500],
      ["30s", 30_000],
      ["5m", 300_000],
      ["2h", 7_200_000],
      ["7d", 604_800_000],
      ["30", 30_000],
      ["0030s", 30_000],
      ["0", 0],
      ["0ms", 0],
      ["4294967295", MAX_DURATION_MS],
      ["4294967295s", MAX_DURATION_MS],
      ["4294967295000ms", MAX_DURATION_MS],
      ["49710d", 49_710 * 86_400_000],
      ["1193046h", 1_193_046 * 3_600_000],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  },
});

Deno.test({
  name:
    "parseDuration() refuses signs, fractions, spaces, other units and more than 2^32-1 s",
  permissions: "none",
  fn() {
    for (
      const text of [
        "",
        "s",
        "1h30m",
        "1.5s",
        "+3",
        "-3",
        "10S",
        "10MS",
        "1 s",
        " 1s",
        "1s ",
        "1w",
        "1e3",
        "0x10",
        "4294967296",
        "4294967295001ms",
        "71582789m",
        "49711d",
        "99999999999999999999999",
      ]
    ) {
      assert.throws(() => parseDuration(text), SyntaxError, text);
    }
  },
});

Deno.test({
  name: "formatDuration() writes the largest exact unit, zero as 0s",
  permissions: "none",
  fn() {
    const cases: [number, string][] = [
      [0, "0s"],
      [1, "1ms"],
      [1500, "1500ms"],
      [90_000, "90s"],
      [120_000, "2m"],
      [5_400_000, "90m"],
      [7_200_000, "2h"],
      [86_400_000, "1d"],
      [90_000_000, "25h"],
      [MAX_DURATION_MS, "4294967295s"],
    ];
    for (const [ms, text] of cases) {
      assert.equal(formatDuration(ms), text, String(ms));
      assert.equal(parseDuration(text), ms, `${text} reads back`);
    }
  },
});
