import assert from "node:assert/strict";
import {
  AUTH_DEADLINE_MS,
  AUTH_FAILURE_DELAY_MS,
  type AuthOutcome,
  createAuthenticator,
  FailureThrottle,
} from "../../../src/server/auth.ts";

/** The auth file example of configuration.md §4, plus secrets with spaces and near prefixes. */
const TOKENS = [
  { secret: "sk_deploy_7f3a91", namespace: "deploy." },
  { secret: "sk_admin_5c2e08", namespace: "*" },
  { secret: "open sesame, said Ali", namespace: "spaced." },
  { secret: "sk_deploy_7f3a9", namespace: "shorter." },
  { secret: "sk_deploy_7f3a911", namespace: "longer." },
  { secret: "clé 🔑", namespace: "unicode." },
];

/** No pause after a failure, no throttling: checks only. */
const QUICK = { failureDelayMs: 0, burst: 1000, perSecond: 1000 };

function namespaceOf(outcome: AuthOutcome): string | undefined {
  return outcome.kind === "accepted" ? outcome.namespace : undefined;
}

Deno.test({
  name:
    "createAuthenticator() verify() gives the namespace of the token whose secret it is",
  permissions: "none",
  async fn() {
    const auth = createAuthenticator(TOKENS, QUICK);
    for (const { secret, namespace } of TOKENS) {
      assert.equal(namespaceOf(await auth.verify(secret, "a")), namespace);
    }
  },
});

Deno.test({
  name:
    "createAuthenticator() verify() refuses wrong, empty, missing and near-miss secrets",
  permissions: "none",
  async fn() {
    const auth = createAuthenticator(TOKENS, QUICK);
    const wrong = [
      "",
      " ",
      "wrong",
      "sk_deploy_7f3a",
      "sk_deploy_7f3a912",
      "SK_DEPLOY_7F3A91",
      " sk_deploy_7f3a91",
      "sk_deploy_7f3a91 ",
      "sk_deploy_7f3a91\t",
      "open sesame,  said Ali",
      "open sesame, said",
      "clé",
      "deploy.",
      "*",
      undefined,
    ];
    for (const secret of wrong) {
      assert.deepEqual(await auth.verify(secret, "a"), { kind: "refused" });
    }
  },
});

Deno.test({
  name: "createAuthenticator() without tokens refuses every secret",
  permissions: "none",
  async fn() {
    const auth = createAuthenticator([], QUICK);
    assert.deepEqual(await auth.verify("", "a"), { kind: "refused" });
    assert.deepEqual(await auth.verify("sk_deploy_7f3a91", "a"), {
      kind: "refused",
    });
  },
});

Deno.test({
  name:
    "createAuthenticator() copies the tokens, so later changes to the list do not count",
  permissions: "none",
  async fn() {
    const tokens = [{ secret: "s1", namespace: "a." }];
    const auth = createAuthenticator(tokens, QUICK);
    tokens.push({ secret: "s2", namespace: "b." });
    assert.equal(namespaceOf(await auth.verify("s1", "a")), "a.");
    assert.deepEqual(await auth.verify("s2", "a"), { kind: "refused" });
  },
});

Deno.test("createAuthenticator() answers a refused secret only after 250 ms, a right one at once", async () => {
  const auth = createAuthenticator(TOKENS);
  assert.equal(auth.deadlineMs, AUTH_DEADLINE_MS);
  assert.equal(AUTH_DEADLINE_MS, 5000);
  assert.equal(AUTH_FAILURE_DELAY_MS, 250);
  let started = performance.now();
  await auth.verify("wrong", "a");
  assert.ok(performance.now() - started >= AUTH_FAILURE_DELAY_MS - 5);
  started = performance.now();
  await auth.verify("sk_admin_5c2e08", "a");
  assert.ok(performance.now() - started < AUTH_FAILURE_DELAY_MS);
});

Deno.test("createAuthenticator() verify() gives up a wait when its signal aborts", async () => {
  const auth = createAuthenticator(TOKENS, { burst: 1, perSecond: 0.5 });
  const closing = new AbortController();
  await auth.verify("wrong", "a", closing.signal); // the token of the burst
  const waiting = auth.verify("wrong", "a", closing.signal);
  closing.abort();
  assert.deepEqual(await waiting, { kind: "abandoned" });
});

Deno.test({
  name:
    "FailureThrottle.reserve() lets a burst through, then one attempt per interval, per peer address",
  permissions: "none",
  fn() {
    const throttle = new FailureThrottle(3, 2);
    assert.deepEqual([0, 0, 0].map(() => throttle.reserve("a", 0)), [0, 0, 0]);
    assert.equal(throttle.reserve("a", 0), 500);
    assert.equal(throttle.reserve("a", 0), 1000);
    // Another address has its own bucket.
    assert.equal(throttle.reserve("b", 0), 0);
    // Tokens come back at 2 a second: 1 s later the debt of 2 is paid.
    assert.equal(throttle.reserve("a", 1000), 500);
  },
});

Deno.test({
  name:
    "FailureThrottle.refund() gives back the token of an attempt that succeeded",
  permissions: "none",
  fn() {
    const throttle = new FailureThrottle(1, 1);
    assert.equal(throttle.reserve("a", 0), 0);
    throttle.refund("a");
    assert.equal(throttle.reserve("a", 0), 0);
    assert.equal(throttle.reserve("a", 0), 1000);
  },
});

Deno.test("createAuthenticator() refuses unchecked a peer whose turn would come after the AUTH deadline", async () => {
  const auth = createAuthenticator(TOKENS, { burst: 1, perSecond: 0.1 });
  await auth.verify("wrong", "a"); // the burst
  // The next turn is 10 s away: beyond the 5 s deadline, so not looked at.
  assert.deepEqual(await auth.verify("sk_admin_5c2e08", "a"), {
    kind: "throttled",
  });
  assert.equal(
    namespaceOf(await auth.verify("sk_admin_5c2e08", "b")),
    "*",
  );
});
