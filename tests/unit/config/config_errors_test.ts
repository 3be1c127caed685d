/** parseConfig() refuses every startup error of configuration.md §3 with its exact message (the table is in _config_errors.ts). */
import { ERRORS } from "./_config_errors.ts";
import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/config.ts";
import { assertConfigError } from "./_config.ts";

// --- every startup error of configuration.md §3 ----------------------------

for (const [what, text, message] of ERRORS) {
  Deno.test({
    name: `parseConfig() rejects ${what}`,
    permissions: "none",
    fn() {
      assertConfigError(() => parseConfig(text, "z.toml"), message);
    },
  });
}

Deno.test({
  name: "parseConfig() reports the first problem in document order",
  permissions: "none",
  fn() {
    assertConfigError(
      () =>
        parseConfig(
          "[execution]\nconcurrency = 0\n[database]\nframerate = 0\n",
          "x",
        ),
      "config: [execution] concurrency must be between 1 and 1024",
    );
    assertConfigError(
      () => parseConfig("[database]\nframerate = 0\nfsync = 1\n", "x"),
      "config: [database] framerate must be between 1 and 65535",
    );
  },
});

Deno.test({
  name: "parseConfig() never quotes the file's text in a TOML error",
  permissions: "none",
  fn() {
    assert.throws(
      () => parseConfig('[controller]\nauth_file = "sk_secret_1\n', "x"),
      (error: Error) => {
        assert.match(error.message, /^config: invalid TOML: line 2, /);
        assert.ok(!error.message.includes("sk_secret_1"));
        assert.ok(!error.message.includes("\n"));
        return true;
      },
    );
  },
});
