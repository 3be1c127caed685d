/**
 * The docs harness itself (tests/_helpers/docs_examples.ts): a matcher that
 * accepted anything would make every page of docs/ pass.
 */
import assert from "node:assert/strict";
import {
  extractExamples,
  headingAnchor,
  outputMatches,
  relativeLinks,
  substitute,
} from "../_helpers/docs_examples.ts";

Deno.test({
  name:
    "docs harness: output blocks match exactly, `...` within a line or as lines",
  permissions: "none",
  fn() {
    assert.ok(outputMatches("a\nb\n", "a\nb\n"));
    assert.ok(outputMatches("a\nb\n", "a\r\nb\r\n\n"));
    assert.ok(!outputMatches("a\nb\n", "a\nc\n"));
    assert.ok(!outputMatches("r1 OK\n", "r1 OK\nextra\n"));
    assert.ok(!outputMatches("r1 OK\n", "x r1 OK\n"));
    assert.ok(outputMatches("t ... z\n", "t 1 2 z\n"));
    assert.ok(!outputMatches("t ... z\n", "t 1\n2 z\n"));
    assert.ok(outputMatches("a\n...\nz\n", "a\nz\n"));
    assert.ok(outputMatches("a\n...\nz\n", "a\n1\n2\nz\n"));
    assert.ok(!outputMatches("a\n...\nz\n", "a\n1\n"));
    assert.ok(outputMatches("x (y) [z] $1.*\n", "x (y) [z] $1.*\n"));
  },
});

Deno.test({
  name:
    "docs harness: sh and python blocks run, output blocks attach, the rest does not",
  permissions: "none",
  fn() {
    const page = [
      "```sh",
      "echo a",
      "```",
      "",
      "```output",
      "a",
      "```",
      "```sh norun",
      "ztick -c config.toml",
      "```",
      "```text",
      "r1 OK",
      "```",
      "```python",
      "print(1)",
      "```",
      "```toml",
      "[log]",
      "```",
    ].join("\n");
    const { examples, norun, toml } = extractExamples("p.md", page);
    assert.deepEqual(examples, [
      {
        page: "p.md",
        line: 1,
        language: "sh",
        code: "echo a\n",
        expected: "a\n",
      },
      { page: "p.md", line: 14, language: "python", code: "print(1)\n" },
    ]);
    assert.equal(norun, 1);
    assert.deepEqual(toml, [{ line: 17, text: "[log]\n" }]);
    assert.throws(() => extractExamples("p.md", "```sh\necho"), /open fence/);
    assert.throws(
      () => extractExamples("p.md", "```bash\necho\n```"),
      /unknown block "bash"/,
    );
    assert.throws(
      () => extractExamples("p.md", "```text\na\n```\n```output\na\n```"),
      /output block after no example/,
    );
  },
});

Deno.test({
  name: "docs harness: documented ports and paths are replaced, others kept",
  permissions: "none",
  fn() {
    const sandbox = { dir: "/w", ports: new Map([[5678, 40001]]) };
    assert.equal(
      substitute(
        sandbox,
        'socat - TCP:localhost:5678 127.0.0.1:5678 :9229 ("localhost", 5678) /etc/ztick/a',
      ),
      'socat - TCP:127.0.0.1:40001 127.0.0.1:40001 :9229 ("127.0.0.1", 40001) /w/etc/ztick/a',
    );
    assert.equal(substitute(sandbox, "127.0.0.1:8080"), "127.0.0.1:8080");
  },
});

Deno.test({
  name: "docs harness: heading anchors and relative links as GitHub makes them",
  permissions: "none",
  fn() {
    assert.equal(
      headingAnchor("STAT: the daemon's figures"),
      "stat-the-daemons-figures",
    );
    assert.equal(
      headingAnchor("`[shell]`: the shell runner"),
      "shell-the-shell-runner",
    );
    assert.deepEqual(
      relativeLinks("[a](b.md#c) [d](https://x.org/e.md) [f](#g) [h](i.md)"),
      [{ target: "b.md", anchor: "c" }, { target: "", anchor: "g" }, {
        target: "i.md",
      }],
    );
  },
});
