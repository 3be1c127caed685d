import assert from "node:assert/strict";
import { SystemClock } from "../../src/system_time.ts";

Deno.test("SystemClock never reads ahead of the wall clock and never behind its millisecond", () => {
  const clock = new SystemClock();
  for (let i = 0; i < 20_000; i++) {
    const before = BigInt(Date.now()) * 1_000_000n;
    const now = clock.nowNs();
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    assert.ok(
      now >= before && now < after,
      `${now} not in [${before}, ${after})`,
    );
  }
});

Deno.test("SystemClock has sub-millisecond resolution", () => {
  const clock = new SystemClock();
  const fractions = new Set<bigint>();
  const endMs = Date.now() + 20;
  while (Date.now() < endMs) fractions.add(clock.nowNs() % 1_000_000n);
  assert.ok(fractions.size > 10, `${fractions.size} distinct sub-ms values`);
});

Deno.test("SystemClock never runs backwards, also across the ticks of Date.now()", () => {
  const clock = new SystemClock();
  let last = clock.nowNs();
  for (let i = 0; i < 50_000; i++) {
    const now = clock.nowNs();
    assert.ok(now >= last, `${now} after ${last}`);
    last = now;
  }
});
