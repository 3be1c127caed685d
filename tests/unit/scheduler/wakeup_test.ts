import assert from "node:assert/strict";
import { Wakeup } from "../../../src/scheduler/wakeup.ts";
import { ManualClock, ManualTimer } from "../../_helpers/doubles.ts";
import { mulberry32 } from "../../_helpers/random.ts";

const T0 = 1_775_008_800_000_000_000n;
const MS = 1_000_000n;

/** A wake-up over a manual clock and timer, with a settable next due time. */
function setUp() {
  const clock = new ManualClock(T0);
  const timer = new ManualTimer();
  const world = {
    dueNs: undefined as bigint | undefined,
    held: false,
    wakes: 0,
  };
  const wakeup = new Wakeup({
    timer,
    clock,
    nextDueNs: () => world.dueNs,
    held: () => world.held,
    onWake: () => world.wakes++,
  });
  /** Arms with the next job due `inNs` from now; returns the one pending task. */
  const armFor = (inNs: bigint | undefined) => {
    world.dueNs = inNs === undefined ? undefined : clock.ns + inNs;
    wakeup.arm();
    assert.equal(timer.pending.length, 1);
    return timer.pending[0]!;
  };
  return { clock, timer, world, wakeup, armFor };
}

Deno.test({
  name: "Wakeup arm() sleeps 1 s when no job is planned",
  permissions: "none",
  fn() {
    const { armFor } = setUp();
    assert.deepEqual(
      { ...armFor(undefined) },
      { kind: "after", delayMs: 1000, cancelled: false, fired: false },
    );
  },
});

Deno.test({
  name: "Wakeup arm() sleeps at most 1 s when the next job is further away",
  permissions: "none",
  fn() {
    const { armFor } = setUp();
    for (
      const inNs of [1000n * MS, 1001n * MS, 60_000n * MS, 2n ** 62n]
    ) {
      const task = armFor(inNs);
      assert.equal(task.kind, "after");
      assert.equal(task.delayMs, 1000, `due in ${inNs} ns`);
    }
  },
});

Deno.test({
  name: "Wakeup arm() sleeps until 2 ms before a job due within the second",
  permissions: "none",
  fn() {
    const { armFor } = setUp();
    const cases: [bigint, number][] = [
      [999_999_999n, 997],
      [500n * MS, 498],
      [10n * MS, 8],
      [3n * MS, 1],
      [2n * MS + 999_999n, 0],
      [2n * MS + 1n, 0],
    ];
    for (const [inNs, delayMs] of cases) {
      const task = armFor(inNs);
      assert.equal(task.kind, "after");
      assert.equal(task.delayMs, delayMs, `due in ${inNs} ns`);
    }
  },
});

Deno.test({
  name:
    "Wakeup arm() polls with soon() when the job is due within 2 ms, now or in the past",
  permissions: "none",
  fn() {
    const { armFor } = setUp();
    for (const inNs of [2n * MS, MS, 1n, 0n, -1n, -3600n * 1000n * MS]) {
      const task = armFor(inNs);
      assert.equal(task.kind, "soon", `due in ${inNs} ns`);
    }
  },
});

Deno.test({
  name:
    "Wakeup arm() never wakes later than 2 ms before the job, nor sleeps over 1 s",
  permissions: "none",
  fn() {
    const { clock, armFor } = setUp();
    const next = mulberry32(7);
    for (let i = 0; i < 2000; i++) {
      const inNs = BigInt(Math.floor((next() * 2.2 - 0.1) * 1e9));
      const task = armFor(inNs);
      if (inNs <= 2n * MS) {
        assert.equal(task.kind, "soon", `due in ${inNs} ns`);
        continue;
      }
      assert.equal(task.kind, "after");
      assert.ok(Number.isInteger(task.delayMs) && task.delayMs >= 0);
      assert.ok(task.delayMs <= 1000, `slept ${task.delayMs} ms`);
      const wakeNs = clock.ns + BigInt(task.delayMs) * MS;
      const dueNs = clock.ns + inNs;
      if (inNs < 1000n * MS) {
        assert.ok(wakeNs <= dueNs - 2n * MS, `due in ${inNs} ns`);
        assert.ok(wakeNs > dueNs - 3n * MS, `woke too early for ${inNs} ns`);
      }
    }
  },
});

Deno.test({
  name: "Wakeup arm() looks again every 50 ms while due jobs are held",
  permissions: "none",
  fn() {
    const { world, armFor } = setUp();
    world.held = true;
    for (const inNs of [-MS, 0n, MS, 500n * MS, 60_000n * MS]) {
      const task = armFor(inNs);
      assert.equal(task.kind, "after");
      assert.equal(task.delayMs, 50, `due in ${inNs} ns`);
    }
    // Nothing planned, nothing held: the usual second.
    assert.equal(armFor(undefined).delayMs, 1000);
    world.held = false;
    assert.equal(armFor(0n).kind, "soon");
  },
});

Deno.test({
  name:
    "Wakeup calls onWake once when its task fires, and is then no longer armed",
  permissions: "none",
  fn() {
    const { timer, world, wakeup, armFor } = setUp();
    assert.equal(wakeup.armed, false);
    armFor(500n * MS);
    assert.equal(wakeup.armed, true);
    assert.equal(world.wakes, 0);
    timer.fire();
    assert.equal(world.wakes, 1);
    assert.equal(wakeup.armed, false);
    assert.equal(timer.pending.length, 0);
  },
});

Deno.test({
  name: "Wakeup disarm() cancels the pending wake-up",
  permissions: "none",
  fn() {
    const { timer, world, wakeup, armFor } = setUp();
    for (const inNs of [0n, 500n * MS, undefined]) {
      armFor(inNs);
      wakeup.disarm();
      assert.equal(wakeup.armed, false);
      assert.equal(timer.pending.length, 0);
      assert.equal(timer.tasks.at(-1)!.cancelled, true);
    }
    wakeup.disarm(); // harmless when not armed
    assert.equal(world.wakes, 0);
  },
});

Deno.test({
  name: "Wakeup arm() replaces the pending wake-up",
  permissions: "none",
  fn() {
    const { clock, timer, world, wakeup, armFor } = setUp();
    armFor(800n * MS);
    const first = timer.tasks[0]!;
    // The clock moved on and an earlier job came in.
    clock.ns += 100n * MS;
    world.dueNs = clock.ns + MS;
    wakeup.arm();
    assert.equal(first.cancelled, true);
    assert.equal(timer.pending.length, 1);
    assert.equal(timer.pending[0]!.kind, "soon");
    timer.fire();
    assert.equal(world.wakes, 1);
  },
});

Deno.test({
  name: "Wakeup polls the last 2 ms until onWake stops re-arming",
  permissions: "none",
  fn() {
    const clock = new ManualClock(T0);
    const timer = new ManualTimer();
    const dueNs = T0 + 10n * MS;
    const seen: string[] = [];
    const wakeup: Wakeup = new Wakeup({
      timer,
      clock,
      nextDueNs: () => clock.ns < dueNs ? dueNs : undefined,
      held: () => false,
      onWake: () => {
        seen.push(`woke at +${(clock.ns - T0) / 1000n} µs`);
        if (clock.ns < dueNs) wakeup.arm();
      },
    });
    wakeup.arm();
    assert.deepEqual({ ...timer.pending[0]! }, {
      kind: "after",
      delayMs: 8,
      cancelled: false,
      fired: false,
    });
    clock.ns += 8n * MS;
    timer.fire();
    for (const stepNs of [500_000n, 500_000n, 500_000n, 500_000n]) {
      assert.equal(timer.pending[0]!.kind, "soon");
      clock.ns += stepNs;
      timer.fire();
    }
    assert.deepEqual(seen, [
      "woke at +8000 µs",
      "woke at +8500 µs",
      "woke at +9000 µs",
      "woke at +9500 µs",
      "woke at +10000 µs",
    ]);
    // onWake did not arm again once the job was due: nothing is pending.
    assert.equal(timer.pending.length, 0);
    assert.equal(wakeup.armed, false);
  },
});

Deno.test({
  name: "Wakeup arm(nowNs) measures the wait from the reading it is given",
  permissions: "none",
  fn() {
    const { clock, timer, world, wakeup } = setUp();
    world.dueNs = clock.ns + 10n * MS;
    // Given a reading 9 ms past the clock's, the job is 1 ms away: polled.
    wakeup.arm(clock.ns + 9n * MS);
    assert.equal(timer.pending.at(-1)!.kind, "soon");
    wakeup.arm();
    assert.deepEqual(
      { ...timer.pending.at(-1)! },
      { kind: "after", delayMs: 8, cancelled: false, fired: false },
    );
  },
});
