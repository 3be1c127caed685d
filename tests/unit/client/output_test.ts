import assert from "node:assert/strict";
import { renderOutput } from "../../../src/client/output.ts";

const ok = (data: string[], value = "") => ({ data, value });
const text = { json: false, jobId: "j" };
const json = { json: true, jobId: "j" };

Deno.test({
  name:
    "renderOutput() prints list answers as on the wire without the request id",
  permissions: "none",
  fn() {
    const lines = ["a planned 5", "b failed 6"];
    assert.equal(
      renderOutput("query", ok(lines), text),
      "a planned 5\nb failed 6\n",
    );
    assert.equal(
      renderOutput("rule ls", ok(["r p. shell a b"]), text),
      "r p. shell a b\n",
    );
    assert.equal(
      renderOutput("history", ok(["1 2 3 executed r exit:0"]), text),
      "1 2 3 executed r exit:0\n",
    );
    assert.equal(
      renderOutput("stat", ok(["uptime_ns 5"]), text),
      "uptime_ns 5\n",
    );
    assert.equal(renderOutput("query", ok([]), text), "");
  },
});

Deno.test({
  name: 'renderOutput() prints nothing for mutations, {"ok":true} with --json',
  permissions: "none",
  fn() {
    for (
      const command of ["set", "cron", "rm", "rule set", "rule rm"] as const
    ) {
      assert.equal(renderOutput(command, ok([]), text), "", command);
      assert.equal(
        renderOutput(command, ok([]), json),
        '{"ok":true}\n',
        command,
      );
    }
  },
});

Deno.test({
  name:
    "renderOutput() writes stat JSON in STAT order, integers exact, text as strings",
  permissions: "none",
  fn() {
    assert.equal(
      renderOutput(
        "stat",
        ok([
          "uptime_ns 9007199254740993",
          "persistence logfile",
          "compression idle",
          "version 0.1.0",
          "connections 01",
        ]),
        json,
      ),
      '{"uptime_ns":9007199254740993,"persistence":"logfile","compression":"idle","version":"0.1.0","connections":"01"}\n',
    );
  },
});

Deno.test({
  name:
    "renderOutput() writes history runs without message, rule lines with their options",
  permissions: "none",
  fn() {
    assert.equal(
      renderOutput(
        "history",
        ok(["1 1775008800000412000 1775008801234000000 failed  no-rule"]),
        json,
      ),
      '[{"job":"j","attempt":1,"started":1775008800000412000,"ended":1775008801234000000,"outcome":"failed","rule":"","detail":"no-rule"}]\n',
    );
    assert.equal(
      renderOutput(
        "rule ls",
        ok(["r p. retries=5 timeout=2m shell echo hi"]),
        json,
      ),
      '[{"id":"r","pattern":"p.","runner":"shell","options":{"retries":5,"timeout":"2m"},"args":["echo hi"]}]\n',
    );
  },
});

Deno.test({
  name: "renderOutput() throws SyntaxError for an answer it cannot read",
  permissions: "none",
  fn() {
    assert.throws(
      () => renderOutput("get", ok([], "planned"), text),
      SyntaxError,
    );
    assert.throws(() => renderOutput("query", ok(["x"]), json), SyntaxError);
  },
});
