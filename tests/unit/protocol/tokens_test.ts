import assert from "node:assert/strict";
import {
  isBlank,
  quoteToken,
  readRequestId,
  tokenize,
} from "../../../src/protocol/tokens.ts";

const cases: [string, string[], string?][] = [
  ["r1 SET a 1", ["r1", "SET", "a", "1"]],
  ["  r1   GET   a  ", ["r1", "GET", "a"]],
  ['a"b c"d', ["a", "b c", "d"]],
  ['r1 "" x', ["r1", "", "x"]],
  ['"say \\"hi\\"" \\n', ['say "hi"', "\\n"]],
  ['"a\\\\b" "\\n"', ["a\\b", "n"]],
  ["a\\b", ["a\\b"]],
  ["tab\tinside", ["tab\tinside"]],
  ['"unclosed', [], "unclosed quote"],
  ['r1 "unclosed', ["r1"], "unclosed quote"],
  ["r1 bad\x01", ["r1"], "control character in token"],
  ["r\x7f1 x", [], "control character in token"],
  ['r1 "a\x00"', ["r1"], "control character in token"],
];

for (const [line, tokens, error] of cases) {
  Deno.test({
    name: `tokenize() reads ${JSON.stringify(line)}`,
    permissions: "none",
    fn() {
      const result = tokenize(line);
      assert.deepEqual(result.tokens, tokens);
      assert.equal(result.error, error);
    },
  });
}

Deno.test({
  name: "quoteToken() output reads back through tokenize()",
  permissions: "none",
  fn() {
    for (
      const token of [
        "",
        "plain",
        "a b",
        'q"q',
        "back\\slash",
        "tab\there",
        '"',
        "\\",
      ]
    ) {
      assert.deepEqual(tokenize(`x ${quoteToken(token)} y`).tokens, [
        "x",
        token,
        "y",
      ]);
    }
  },
});

Deno.test({
  name: "readRequestId() reads the id of a line that is not valid UTF-8",
  permissions: "none",
  fn() {
    const bytes = new Uint8Array([0x72, 0x31, 0x20, 0xff, 0xfe]);
    assert.equal(readRequestId(bytes, false), "r1");
    assert.equal(
      readRequestId(new Uint8Array([0xff, 0x20, 0x41]), false),
      undefined,
    );
    assert.equal(
      readRequestId(new TextEncoder().encode('"a b" x'), true),
      "a b",
    );
    assert.equal(
      readRequestId(new TextEncoder().encode('"a b'), false),
      undefined,
    );
    assert.equal(
      readRequestId(new TextEncoder().encode("abc"), true),
      undefined,
    );
    assert.equal(
      readRequestId(new TextEncoder().encode('"" x'), true),
      undefined,
    );
  },
});

Deno.test({
  name: "isBlank() accepts only spaces and tabs",
  permissions: "none",
  fn() {
    assert.ok(isBlank(""));
    assert.ok(isBlank(" \t "));
    assert.ok(!isBlank(" x"));
  },
});
