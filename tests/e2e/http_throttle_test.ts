/**
 * A host guessing Bearer tokens over many HTTP connections is checked only
 * a few times a second, while a right token from another address is
 * answered at once (spec: http-api.md §2, protocol.md §9). The guesser is
 * a Python script bound to 127.0.0.2, as in abuse_test.ts.
 */
import assert from "node:assert/strict";
import { delay } from "../_helpers/http_client.ts";
import { Api, assertJson, authHttpDaemon } from "./_http.ts";
import { ADMIN_SECRET, guesserScript, python } from "./_security.ts";

/**
 * From 127.0.0.2, keeps 10 connections guessing tokens for `seconds`: each
 * sends a GET with a wrong Bearer token and hangs up after 20 ms without
 * waiting for the answer. Prints the number of guesses sent.
 */
const GUESSER = guesserScript(
  'b"GET /jobs HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer guess-%d-%d\\r\\n\\r\\n"',
  10,
);

Deno.test("a host guessing Bearer tokens is checked a few times a second; a right token from elsewhere is answered at once", async () => {
  await using auth = await authHttpDaemon();
  const { daemon } = auth;
  const admin = new Api(daemon.httpPort, ADMIN_SECRET);
  const attack = python(GUESSER, String(daemon.httpPort), "2");
  await delay(1000);
  const started = performance.now();
  assertJson(await admin.get("/jobs"), 200, "[]");
  const answeredMs = performance.now() - started;
  const sent = Number(await attack);
  // Checks finish up to 5 s later (queued turns, 250 ms answer delay).
  await delay(5500);
  const metrics = (await admin.get("/metrics")).body;
  const checked = Number(
    /^ztick_auth_failures_total (\d+)$/m.exec(metrics)?.[1],
  );
  // 5 at once, then 2 a second, over at most 2 s + 5 s of queued turns.
  assert.ok(checked <= 5 + 2 * 7 + 1, `${checked} of ${sent} tokens checked`);
  assert.ok(checked >= 5, `${checked} tokens checked`);
  assert.ok(sent > 10 * checked, `only ${sent} guesses sent`);
  assert.ok(
    answeredMs < 1000,
    `right token answered after ${answeredMs.toFixed(0)} ms`,
  );
});
