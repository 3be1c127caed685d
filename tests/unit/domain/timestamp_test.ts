import assert from "node:assert/strict";
import {
  formatTimestamp,
  parseTimestamp,
} from "../../../src/domain/timestamp.ts";

const valid: [string[], bigint][] = [
  [["1775008800000000000"], 1775008800000000000n],
  [["0001775008800000000000"], 1775008800000000000n],
  [["-1"], -1n],
  [["9223372036854775807"], 9223372036854775807n],
  [["-9223372036854775808"], -9223372036854775808n],
  [["2026-04-01", "02:00:00"], 1775008800000000000n],
  [["2026-04-01 02:00:00"], 1775008800000000000n],
  [["2024-03-28", "08:00:00"], 1711612800000000000n],
  [["2024-02-29", "23:59:59"], 1709251199000000000n],
  [["2000-02-29", "00:00:00"], 951782400000000000n],
  [["1970-01-01", "00:00:00"], 0n],
  [["1677-09-21", "00:12:44"], -9223372036000000000n],
  [["2262-04-11", "23:47:16"], 9223372036000000000n],
];

for (const [tokens, expected] of valid) {
  Deno.test({
    name: `parseTimestamp() reads ${JSON.stringify(tokens)}`,
    permissions: "none",
    fn() {
      assert.equal(parseTimestamp(tokens), expected);
    },
  });
}

const invalid: string[][] = [
  [],
  ["2026-04-01", "02:00:00", "x"],
  ["+1"],
  ["1_000"],
  ["1.5"],
  ["abc"],
  ["9223372036854775808"],
  ["-9223372036854775809"],
  ["2026-02-30", "00:00:00"],
  ["2025-02-29", "00:00:00"],
  ["1900-02-29", "00:00:00"],
  ["2026-04-01", "24:00:00"],
  ["2026-04-01", "23:60:00"],
  ["2026-04-01", "23:59:60"],
  ["2026-13-01", "00:00:00"],
  ["2026-00-01", "00:00:00"],
  ["2026-04-00", "00:00:00"],
  ["2026-04-31", "00:00:00"],
  ["2026-04-01"],
  ["2026-4-01", "00:00:00"],
  ["2026-04-01", "2:00:00"],
  ["2026/04/01", "00:00:00"],
  ["2026-04-01", "02.00.00"],
  ["2026-04-01  02:00:00"],
  ["1677-09-21", "00:12:43"],
  ["2262-04-11", "23:47:17"],
  ["２０２６-04-01", "00:00:00"],
];

for (const tokens of invalid) {
  Deno.test({
    name: `parseTimestamp() rejects ${JSON.stringify(tokens)}`,
    permissions: "none",
    fn() {
      assert.throws(() => parseTimestamp(tokens), SyntaxError);
    },
  });
}
Deno.test({
  name:
    "formatTimestamp() writes whole seconds bare and fractions to the nanosecond",
  permissions: "none",
  fn() {
    assert.equal(formatTimestamp(0n), "1970-01-01T00:00:00Z");
    assert.equal(
      formatTimestamp(1775008800500000000n),
      "2026-04-01T02:00:00.5Z",
    );
    assert.equal(
      formatTimestamp(1775008800000000001n),
      "2026-04-01T02:00:00.000000001Z",
    );
    assert.equal(
      formatTimestamp(2n ** 63n - 1n),
      "2262-04-11T23:47:16.854775807Z",
    );
    assert.equal(
      formatTimestamp(-(2n ** 63n)),
      "1677-09-21T00:12:43.145224192Z",
    );
  },
});
