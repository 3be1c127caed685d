import assert from "node:assert/strict";
import {
  MAX_MESSAGE_BYTES,
  type Run,
  runMessage,
  withRun,
} from "../../../src/domain/run.ts";

const ENCODER = new TextEncoder();
const byteLength = (text: string) => ENCODER.encode(text).length;

function run(n: number, message = ""): Run {
  return {
    jobId: "j",
    attempt: n,
    startedNs: BigInt(n),
    endedNs: BigInt(n) + 1n,
    outcome: "failed",
    ruleId: "r",
    detail: "exit:1",
    message,
  };
}

Deno.test({
  name: "runMessage() is the reason, then the stderr text trimmed",
  permissions: "none",
  fn() {
    assert.equal(runMessage("exited with code 3"), "exited with code 3");
    assert.equal(
      runMessage("exited with code 3", "\n  disk full\n"),
      "exited with code 3: disk full",
    );
    assert.equal(
      runMessage("exited with code 3", " \n\t\n"),
      "exited with code 3",
    );
  },
});

Deno.test({
  name: "runMessage() turns control characters other than TAB into spaces",
  permissions: "none",
  fn() {
    assert.equal(
      runMessage("a\rb\x00c\x7fd", "line 1\nline 2\tx\x1b[0m"),
      "a b c d: line 1 line 2\tx [0m",
    );
  },
});

Deno.test({
  name:
    "runMessage() keeps the last stderr bytes that fit in 512, cut at a UTF-8 boundary",
  permissions: "none",
  fn() {
    const stderr = "start " + "x".repeat(1000) + " 😀 the end";
    const message = runMessage("exited with code 1", stderr);
    assert.ok(byteLength(message) <= MAX_MESSAGE_BYTES);
    assert.ok(message.startsWith("exited with code 1: xxx"));
    assert.ok(message.endsWith("😀 the end"));
    // Every cut point of a 4-byte character lands before or after it.
    for (let pad = 0; pad < 8; pad++) {
      const text = runMessage("r", "😀".repeat(200) + "y".repeat(pad));
      assert.ok(byteLength(text) <= MAX_MESSAGE_BYTES);
      assert.ok(byteLength(text) > MAX_MESSAGE_BYTES - 4);
      assert.ok(!text.includes("\uFFFD"), `no broken character (pad ${pad})`);
    }
  },
});

Deno.test({
  name: "runMessage() cuts an over-long reason and leaves no room for stderr",
  permissions: "none",
  fn() {
    const reason = "é".repeat(300); // 600 bytes
    const message = runMessage(reason, "stderr");
    assert.equal(byteLength(message), 512);
    assert.equal(message, "é".repeat(256));
    assert.equal(byteLength(runMessage("a" + "é".repeat(300))), 511);
  },
});

Deno.test({
  name: "withRun() keeps the newest runs, only the newest with its message",
  permissions: "none",
  fn() {
    let runs: readonly Run[] = [];
    for (let n = 1; n <= 5; n++) runs = withRun(runs, run(n, `m${n}`), 3);
    assert.deepEqual(runs, [run(3), run(4), run(5, "m5")]);
    const before = runs;
    const after = withRun(runs, run(6, "m6"), 3);
    assert.deepEqual(before, [run(3), run(4), run(5, "m5")], "left as it was");
    assert.deepEqual(after, [run(4), run(5), run(6, "m6")]);
  },
});

Deno.test({
  name:
    "withRun() with a limit of 0 keeps nothing, a lower limit trims the oldest",
  permissions: "none",
  fn() {
    assert.deepEqual(withRun([], run(1), 0), []);
    assert.deepEqual(withRun([run(1), run(2)], run(3, "m"), 1), [run(3, "m")]);
  },
});

Deno.test({
  name:
    "withRun() reads a snapshot then the records committed during it as one history",
  permissions: "none",
  fn() {
    // What the live history was: runs 1..6, limit 3 -> 4, 5, 6.
    // A compaction's snapshot read it as 3, 4, 5 (run 6 came later); the
    // records committed meanwhile (the tee) hold runs 4, 5, 6.
    const limit = 3;
    let runs: readonly Run[] = [];
    for (const n of [3, 4]) runs = withRun(runs, run(n), limit);
    runs = withRun(runs, run(5, "m5"), limit);
    for (const n of [4, 5, 6]) runs = withRun(runs, run(n, `m${n}`), limit);
    assert.deepEqual(runs, [run(4), run(5), run(6, "m6")]);
    // The tee may start before the snapshot's oldest run, too.
    let other: readonly Run[] = [];
    for (const n of [5, 6]) other = withRun(other, run(n), limit);
    for (const n of [3, 4, 5, 6, 7]) {
      other = withRun(other, run(n, `m${n}`), limit);
    }
    assert.deepEqual(other, [run(5), run(6), run(7, "m7")]);
  },
});
