import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { formatRecord, setUpLogging } from "../../../src/log.ts";
import { UndoLog } from "../../../src/scheduler/undo_log.ts";
import type { Counter } from "../../../src/scheduler/ports.ts";
import { settle } from "../../_helpers/doubles.ts";

/** A counter that tells how often it was added to. */
function counter(): Counter & { value: number } {
  return {
    value: 0,
    add(value = 1) {
      this.value += value;
    },
  };
}

Deno.test({
  name: "UndoLog track() returns the committed promise itself",
  permissions: "none",
  fn() {
    const undoLog = new UndoLog();
    const committed = Promise.resolve();
    assert.equal(undoLog.track(committed, () => {}), committed);
  },
});

Deno.test({
  name: "UndoLog runs a failed group's undos newest first",
  permissions: "none",
  async fn() {
    const undoLog = new UndoLog();
    const undone: string[] = [];
    const group = Promise.withResolvers<void>();
    for (const name of ["a", "b", "c"]) {
      undoLog.track(group.promise, () => undone.push(name));
    }
    await settle();
    assert.deepEqual(undone, [], "nothing before the group fails");
    group.reject(new Error("disk full"));
    await settle();
    assert.deepEqual(undone, ["c", "b", "a"]);
  },
});

Deno.test({
  name:
    "UndoLog runs undos newest first across groups the journal rejects newer first",
  permissions: "none",
  async fn() {
    const undoLog = new UndoLog();
    const undone: string[] = [];
    const older = Promise.withResolvers<void>();
    const newer = Promise.withResolvers<void>();
    undoLog.track(older.promise, () => undone.push("old 1"));
    undoLog.track(older.promise, () => undone.push("old 2"));
    undoLog.track(newer.promise, () => undone.push("new 1"));
    undoLog.track(newer.promise, () => undone.push("new 2"));
    newer.reject(new Error("disk full"));
    older.reject(new Error("disk full"));
    await settle();
    assert.deepEqual(undone, ["new 2", "new 1", "old 2", "old 1"]);
  },
});

Deno.test({
  name: "UndoLog undoes only the groups that failed",
  permissions: "none",
  async fn() {
    const undoLog = new UndoLog();
    const undone: string[] = [];
    const first = Promise.withResolvers<void>();
    const second = Promise.withResolvers<void>();
    undoLog.track(first.promise, () => undone.push("first"));
    undoLog.track(second.promise, () => undone.push("second"));
    first.resolve();
    await settle();
    second.reject(new Error("disk full"));
    await settle();
    assert.deepEqual(undone, ["second"]);
  },
});

Deno.test({
  name:
    "UndoLog counts each tracked change once its group commits, and never when it fails",
  permissions: "none",
  async fn() {
    const undoLog = new UndoLog();
    const scheduled = counter();
    const removed = counter();
    const ok = Promise.withResolvers<void>();
    undoLog.track(ok.promise, () => {}, scheduled);
    undoLog.track(ok.promise, () => {}, scheduled);
    undoLog.track(ok.promise, () => {}, removed);
    undoLog.track(ok.promise, () => {}); // no counter
    await settle();
    assert.equal(scheduled.value, 0, "not before the commit");
    ok.resolve();
    await settle();
    assert.equal(scheduled.value, 2);
    assert.equal(removed.value, 1);
    const failed = Promise.withResolvers<void>();
    undoLog.track(failed.promise, () => {}, scheduled);
    failed.reject(new Error("disk full"));
    await settle();
    assert.equal(scheduled.value, 2);
  },
});

Deno.test({
  name: "UndoLog counts a change before the caller hears of the commit",
  permissions: "none",
  async fn() {
    const undoLog = new UndoLog();
    const scheduled = counter();
    await undoLog.track(Promise.resolve(), () => {}, scheduled);
    assert.equal(scheduled.value, 1);
  },
});

Deno.test({
  name: "UndoLog runs the other undos when one throws, and logs the error",
  permissions: "none",
  async fn() {
    const lines: string[] = [];
    setUpLogging("error", (record: LogRecord) => {
      lines.push(formatRecord(record));
    });
    try {
      const undoLog = new UndoLog();
      const undone: string[] = [];
      const group = Promise.withResolvers<void>();
      undoLog.track(group.promise, () => undone.push("a"));
      undoLog.track(group.promise, () => {
        throw new Error("store in a knot");
      });
      undoLog.track(group.promise, () => undone.push("c"));
      group.reject(new Error("disk full"));
      await settle();
      assert.deepEqual(undone, ["c", "a"]);
      assert.deepEqual(lines, [
        "[ERROR] undo of an uncommitted change failed: store in a knot\n",
      ]);
    } finally {
      setUpLogging("off");
    }
  },
});

Deno.test({
  name:
    "UndoLog starts a new group for a new promise after the last one settled",
  permissions: "none",
  async fn() {
    const undoLog = new UndoLog();
    const undone: string[] = [];
    const first = Promise.withResolvers<void>();
    undoLog.track(first.promise, () => undone.push("first"));
    first.resolve();
    await settle();
    const second = Promise.withResolvers<void>();
    undoLog.track(second.promise, () => undone.push("second"));
    second.reject(new Error("disk full"));
    await settle();
    assert.deepEqual(undone, ["second"]);
  },
});
