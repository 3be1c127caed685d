/** Which failed commits make a leader step down (cluster.md §2), and scrubbing. */
import assert from "node:assert/strict";
import { scrub, withoutPassword } from "../../../src/cluster/pg.ts";
import { isFatal } from "../../../src/cluster/pg_journal.ts";

Deno.test("isFatal: the fence, lost connections, cancelled statements and shutdowns step down", () => {
  for (
    const code of [
      "ZT001", // ztick_fence: the lease is another node's
      "08006", // connection failure
      "57014", // statement_timeout
      "57P01", // admin shutdown (database restart)
      "53300", // too many connections
      "CONNECTION_CLOSED",
      "CONNECT_TIMEOUT",
      "ECONNREFUSED",
    ]
  ) {
    assert.equal(isFatal({ code }), true, code);
  }
  assert.equal(isFatal(new Error("no code at all")), true);
});

Deno.test("isFatal: a constraint or serialization failure fails only its group", () => {
  for (const code of ["23505", "23514", "40001", "40P01", "22021"]) {
    assert.equal(isFatal({ code }), false, code);
  }
});

Deno.test("scrub: the password goes, raw or percent-decoded; the user stays", () => {
  const url = "postgres://ztick:p%40ss%3Aw0rd@db.internal:5432/ztick";
  assert.equal(withoutPassword(url), "postgres://ztick@db.internal:5432/ztick");
  assert.equal(
    scrub(url, `cannot reach ${url}: password p@ss:w0rd refused`),
    "cannot reach postgres://ztick@db.internal:5432/ztick: password *** refused",
  );
  assert.equal(scrub("postgres://db/ztick", "plain text"), "plain text");
});
