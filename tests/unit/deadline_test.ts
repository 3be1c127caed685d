import assert from "node:assert/strict";
import { deadline } from "../../src/deadline.ts";

/** Resolves after `ms` of real time (a few ms only: no job is waited for). */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    signal.addEventListener("abort", () => resolve(signal.reason), {
      once: true,
    });
  });
}

Deno.test({
  name:
    "deadline() with ms <= 0 sets no timer and passes the parent signal through",
  permissions: "none",
  fn() {
    const parent = new AbortController();
    let reasons = 0;
    for (const ms of [0, -1, -Infinity, NaN]) {
      using limit = deadline(parent.signal, ms, () => reasons++);
      assert.equal(limit.signal, parent.signal, `ms = ${ms}`);
    }
    assert.equal(reasons, 0);
  },
});

Deno.test({
  name:
    "deadline() with ms <= 0 and no parent gives a signal that never aborts",
  permissions: "none",
  async fn() {
    using limit = deadline(undefined, 0, () => new Error("never"));
    await pause(5);
    assert.equal(limit.signal.aborted, false);
  },
});

Deno.test({
  name: "deadline() aborts with the timeout reason once ms have passed",
  permissions: "none",
  async fn() {
    const started = performance.now();
    let reasons = 0;
    using limit = deadline(undefined, 5, () => {
      reasons++;
      return new Error("too slow");
    });
    assert.equal(limit.signal.aborted, false);
    const reason = await aborted(limit.signal);
    assert.ok(performance.now() - started >= 4.5, "not before its time");
    assert.ok(reason instanceof Error);
    assert.equal(reason.message, "too slow");
    assert.equal(reasons, 1);
  },
});

Deno.test({
  name:
    "deadline() aborts with the parent's reason when the parent aborts first",
  permissions: "none",
  async fn() {
    const parent = new AbortController();
    let reasons = 0;
    using limit = deadline(parent.signal, 60_000, () => reasons++);
    assert.notEqual(limit.signal, parent.signal);
    const shutdown = new Error("shutting down");
    parent.abort(shutdown);
    assert.equal(await aborted(limit.signal), shutdown);
    assert.equal(reasons, 0, "the timeout reason is never built");
  },
});

Deno.test({
  name: "deadline() is aborted at once when the parent already is",
  permissions: "none",
  fn() {
    const parent = new AbortController();
    parent.abort("gone");
    using limit = deadline(parent.signal, 60_000, () => "timeout");
    assert.equal(limit.signal.aborted, true);
    assert.equal(limit.signal.reason, "gone");
  },
});

Deno.test({
  name: "deadline() dispose stops the timer and stops following the parent",
  permissions: "none",
  async fn() {
    const parent = new AbortController();
    const limit = deadline(parent.signal, 3, () => "timeout");
    limit[Symbol.dispose]();
    await pause(10);
    assert.equal(limit.signal.aborted, false, "the timer was cleared");
    parent.abort("late");
    assert.equal(limit.signal.aborted, false, "the parent no longer counts");
    limit[Symbol.dispose](); // twice is harmless
  },
});

Deno.test({
  name: "deadline() beyond setTimeout's 2^31-1 ms limit does not fire at once",
  permissions: "none",
  async fn() {
    for (
      const ms of [2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER, Infinity]
    ) {
      using limit = deadline(undefined, ms, () => "timeout");
      await pause(5);
      assert.equal(limit.signal.aborted, false, `ms = ${ms}`);
    }
  },
});
