/** The lease's local timing rules (cluster.md §3) on an injected clock. */
import assert from "node:assert/strict";
import { LeaseState } from "../../../src/cluster/lease.ts";

function lease(ms = 3000) {
  const clock = { now: 0 };
  return { clock, state: new LeaseState(ms, () => clock.now) };
}

Deno.test("LeaseState: a follower neither leads nor must step down", () => {
  const { state } = lease();
  assert.equal(state.role, "follower");
  assert.equal(state.leading, false);
  assert.equal(state.mustStepDown, false);
  assert.equal(state.renewIntervalMs, 1000);
});

Deno.test("LeaseState: the deadline is 2/3 of the lease after the attempt began, not after it answered", () => {
  const { clock, state } = lease();
  clock.now = 100;
  const started = state.attemptStarted();
  clock.now = 900; // a slow takeover
  state.acquired(4n, started);
  assert.equal(state.term, 4n);
  clock.now = 2099;
  assert.equal(state.leading, true);
  clock.now = 2100;
  assert.equal(state.leading, false);
  assert.equal(state.mustStepDown, true);
});

Deno.test("LeaseState: each renewal moves the deadline from its own start; a late answer never moves it back", () => {
  const { clock, state } = lease();
  state.acquired(1n, state.attemptStarted());
  clock.now = 1000;
  const first = state.attemptStarted();
  clock.now = 1500;
  const second = state.attemptStarted();
  state.renewed(second);
  assert.equal(state.remainingMs, 1500 + 2000 - 1500);
  state.renewed(first); // answered after the newer one
  assert.equal(state.remainingMs, 2000);
  clock.now = 3499;
  assert.equal(state.leading, true);
  clock.now = 3500;
  assert.equal(state.leading, false);
});

Deno.test("LeaseState: a pause longer than the lease leaves the node past its deadline", () => {
  const { clock, state } = lease(1000);
  state.acquired(2n, state.attemptStarted());
  clock.now = 5000; // SIGSTOP … SIGCONT
  assert.equal(state.leading, false);
  assert.equal(state.mustStepDown, true);
  state.stepDown();
  assert.equal(state.role, "follower");
  assert.equal(state.mustStepDown, false);
  state.renewed(5000); // a renewal in flight at step-down changes nothing
  assert.equal(state.leading, false);
});

Deno.test("LeaseState: statement timeout stays below lease / 3", () => {
  for (const ms of [1000, 5000, 60_000]) {
    const { state } = lease(ms);
    assert.ok(state.statementTimeoutMs < ms / 3);
    assert.ok(state.statementTimeoutMs > 0);
  }
});
