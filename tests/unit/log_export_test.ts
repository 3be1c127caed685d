import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { exportLogs, logger, setUpLogging } from "../../src/log.ts";

const log = logger("test");

/** Logs one line per level; returns what `[log]`'s sink and the export got. */
function logEveryLevel(level: "off" | "error" | "debug") {
  const written: string[] = [];
  const exported: string[] = [];
  setUpLogging(level, (record: LogRecord) => written.push(record.level));
  exportLogs((record: LogRecord) => exported.push(record.level));
  try {
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
  } finally {
    exportLogs(undefined);
    setUpLogging("off");
  }
  return { written, exported };
}

Deno.test("exportLogs() gets every record at warn and above whatever [log] level says; [log]'s sink keeps its level", () => {
  assert.deepEqual(logEveryLevel("off"), {
    written: [],
    exported: ["warning", "error"],
  });
  assert.deepEqual(logEveryLevel("error"), {
    written: ["error"],
    exported: ["warning", "error"],
  });
  const debug = logEveryLevel("debug");
  assert.deepEqual(debug.written, ["debug", "info", "warning", "error"]);
  // The export's own filter (telemetrySink) keeps warn and above.
  assert.ok(debug.exported.includes("warning"));
});

Deno.test("exportLogs(undefined) stops the export and leaves [log]'s set-up as it was", () => {
  const written: string[] = [];
  const exported: string[] = [];
  setUpLogging("info", (record: LogRecord) => written.push(record.level));
  exportLogs((record: LogRecord) => exported.push(record.level));
  exportLogs(undefined);
  try {
    log.info("i");
    log.warn("w");
  } finally {
    setUpLogging("off");
  }
  assert.deepEqual(written, ["info", "warning"]);
  assert.deepEqual(exported, []);
});
