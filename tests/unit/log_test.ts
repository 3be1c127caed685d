import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import {
  escapeControls,
  formatJsonRecord,
  formatRecord,
  logger,
  setUpLogging,
} from "../../src/log.ts";

/** Runs `fn` with every record of `level` and above captured. */
function capture(
  level: "debug" | "info",
  fn: () => void,
): LogRecord[] {
  const records: LogRecord[] = [];
  setUpLogging(level, (record) => records.push(record));
  try {
    fn();
  } finally {
    setUpLogging("off");
  }
  return records;
}

function record(message: string, properties = {}): LogRecord {
  return {
    category: ["ztick", "runner"],
    level: "warning",
    message: [message],
    rawMessage: message,
    timestamp: Date.UTC(2026, 3, 1, 2, 0, 0, 7),
    properties,
  };
}

Deno.test("logger() writes messages as given, braces included, with their fields", () => {
  const log = logger("test");
  const records = capture("info", () => {
    log.warn("job {x} failed", { job: "{x}", rule: undefined });
    log.info("plain");
    log.debug("hidden");
  });
  assert.deepEqual(
    records.map((r) => [r.level, r.category, r.message, r.properties]),
    [
      ["warning", ["ztick", "test"], ["job {x} failed"], { job: "{x}" }],
      ["info", ["ztick", "test"], ["plain"], {}],
    ],
  );
});

Deno.test("logger() debug calls a lazy message only when debug lines are written", () => {
  const log = logger("test");
  let calls = 0;
  const entry = () => {
    calls++;
    return { message: "lazy", fields: { request: "r1" } };
  };
  assert.deepEqual(capture("info", () => log.debug(entry)), []);
  assert.equal(calls, 0);
  const records = capture("debug", () => log.debug(entry, { peer: "p" }));
  assert.equal(calls, 1);
  assert.deepEqual(records[0]!.properties, { peer: "p", request: "r1" });
});

Deno.test("formatRecord() keeps every record on one line", () => {
  assert.equal(
    formatRecord(record("a\r\nb\u2028c\x1b[2Jd\x85")),
    "[WARN] a\\r\\nb\\u2028c\\x1b[2Jd\\x85\n",
  );
});

Deno.test("escapeControls() leaves printable text, non-ASCII letters and backslashes alone", () => {
  assert.equal(escapeControls("déjà vu \\n 日本"), "déjà vu \\n 日本");
  assert.equal(escapeControls("\x00\x7f\t"), "\\x00\\x7f\\t");
});

Deno.test("formatJsonRecord() writes the spec's keys, the fields flat, one line", () => {
  const line = formatJsonRecord(
    record("stderr: x\ny", { job: "j", level: "forged", time: "forged" }),
  );
  assert.equal(line.indexOf("\n"), line.length - 1);
  assert.deepEqual(JSON.parse(line), {
    time: "2026-04-01T02:00:00.007Z",
    level: "warn",
    message: "stderr: x\ny",
    logger: "runner",
    job: "j",
    field_level: "forged",
    field_time: "forged",
  });
  // U+2028 would end a line for some JSON-lines readers: escaped too.
  assert.ok(!formatJsonRecord(record("a\u2028b")).includes("\u2028"));
});

Deno.test("formatJsonRecord() names each level as [log] level does", () => {
  const levels = [
    "trace",
    "debug",
    "info",
    "warning",
    "error",
    "fatal",
  ] as const;
  assert.deepEqual(
    levels.map((level) =>
      JSON.parse(formatJsonRecord({ ...record("m"), level })).level
    ),
    ["debug", "debug", "info", "warn", "error", "error"],
  );
});
