import assert from "node:assert/strict";
import {
  AUTH_DEADLINE_MS,
  AUTH_FAILURE_DELAY_MS,
  createAuthenticator,
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

Deno.test({
  name:
    "createAuthenticator() verify() gives the namespace of the token whose secret it is",
  permissions: "none",
  fn() {
    const auth = createAuthenticator(TOKENS);
    for (const { secret, namespace } of TOKENS) {
      assert.equal(auth.verify(secret), namespace, secret);
    }
  },
});

Deno.test({
  name:
    "createAuthenticator() verify() refuses wrong, empty and near-miss secrets",
  permissions: "none",
  fn() {
    const auth = createAuthenticator(TOKENS);
    for (
      const secret of [
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
      ]
    ) {
      assert.equal(auth.verify(secret), undefined, JSON.stringify(secret));
    }
  },
});

Deno.test({
  name: "createAuthenticator() without tokens refuses every secret",
  permissions: "none",
  fn() {
    const auth = createAuthenticator([]);
    assert.equal(auth.verify(""), undefined);
    assert.equal(auth.verify("sk_deploy_7f3a91"), undefined);
  },
});

Deno.test({
  name:
    "createAuthenticator() copies the tokens, so later changes to the list do not count",
  permissions: "none",
  fn() {
    const tokens = [{ secret: "s1", namespace: "a." }];
    const auth = createAuthenticator(tokens);
    tokens.push({ secret: "s2", namespace: "b." });
    assert.equal(auth.verify("s1"), "a.");
    assert.equal(auth.verify("s2"), undefined);
  },
});

Deno.test({
  name:
    "createAuthenticator() gives 5 s to authenticate and waits 250 ms after a failure",
  permissions: "none",
  fn() {
    const auth = createAuthenticator(TOKENS);
    assert.equal(auth.deadlineMs, 5000);
    assert.equal(auth.failureDelayMs, 250);
    assert.equal(AUTH_DEADLINE_MS, 5000);
    assert.equal(AUTH_FAILURE_DELAY_MS, 250);
  },
});
