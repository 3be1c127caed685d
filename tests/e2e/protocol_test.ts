/**
 * Every example of protocol.md, sent as bytes to a real daemon; the answers
 * are checked byte for byte (the §10 rows are in protocol_errors_test.ts).
 */
import assert from "node:assert/strict";
import { converse } from "../_helpers/client.ts";
import { daemon, sortedLines, talk } from "./_protocol.ts";

Deno.test("SET examples are answered OK (protocol.md §6)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(
      d.port,
      "r1 SET backup.daily 2026-04-01 02:00:00",
      "r2 SET my.job 1775053800000000000",
    ),
    "r1 OK\nr2 OK\n",
  );
});

Deno.test("GET examples (protocol.md §6)", async () => {
  await using d = await daemon();
  await talk(d.port, "r0 SET backup.daily 2026-04-01 02:00:00");
  assert.equal(
    await talk(d.port, "r1 GET backup.daily", "r2 GET no.such.job"),
    "r1 OK planned 1775008800000000000\nr2 ERROR\n",
  );
});

Deno.test("QUERY example lists the matching jobs in any order (protocol.md §6)", async () => {
  await using d = await daemon();
  await talk(
    d.port,
    "a SET backup.daily 2026-04-01 02:00:00",
    "b SET backup.weekly 2026-04-08 02:00:00",
    "c SET other.job 2026-04-08 02:00:00",
  );
  const answer = await talk(d.port, "r1 QUERY backup.");
  assert.ok(answer.endsWith("r1 OK\n"));
  assert.deepEqual(sortedLines(answer), [
    "",
    "r1 OK",
    "r1 backup.daily planned 1775008800000000000",
    "r1 backup.weekly planned 1775613600000000000",
  ]);
  assert.equal(await talk(d.port, "r2 QUERY nothing."), "r2 OK\n");
  assert.equal((await talk(d.port, "r3 QUERY")).split("\n").length, 5);
  assert.equal((await talk(d.port, 'r4 QUERY ""')).split("\n").length, 5);
});

Deno.test("REMOVE deletes a job once (protocol.md §6)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(
      d.port,
      "r0 SET backup.daily 2026-04-01 02:00:00",
      "r1 REMOVE backup.daily",
      "r2 REMOVE backup.daily",
      "r3 GET backup.daily",
    ),
    "r0 OK\nr1 OK\nr2 ERROR\nr3 ERROR\n",
  );
});

const RULE_EXAMPLES = [
  "r1 RULE SET rule.backup backup. shell /usr/local/bin/backup.sh",
  'r2 RULE SET rule.cache cache. shell "find /var/cache/app -mtime +7 -delete"',
  "r3 RULE SET rule.ping ping. direct /usr/bin/ping -c 1 10.0.0.1",
  "r4 RULE SET rule.hook deploy. http POST https://ci.example.org/hooks/deploy",
  "r5 RULE SET rule.review review. awf nightly-review --input branch=main --input depth=2",
  "r6 RULE SET rule.events events. amqp amqp://app:s3cret@mq.internal:5672/ scheduler job.due",
  "r7 RULE SET rule.queue queue. redis redis://cache.internal:6379/2 RPUSH queue:due",
  "r8 RULE SET rule.bad app. awf",
];

Deno.test("RULE SET examples (protocol.md §6)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(d.port, ...RULE_EXAMPLES),
    "r1 OK\nr2 OK\nr3 OK\nr4 OK\nr5 OK\nr6 OK\nr7 OK\nr8 ERROR\n",
  );
});

Deno.test("LISTRULES example renders values raw (protocol.md §6)", async () => {
  await using d = await daemon();
  await talk(d.port, RULE_EXAMPLES[0]!, RULE_EXAMPLES[1]!, RULE_EXAMPLES[4]!);
  const answer = await talk(d.port, "r9 LISTRULES");
  assert.ok(answer.endsWith("r9 OK\n"));
  assert.deepEqual(sortedLines(answer), [
    "",
    "r9 OK",
    "r9 rule.backup backup. shell /usr/local/bin/backup.sh",
    "r9 rule.cache cache. shell find /var/cache/app -mtime +7 -delete",
    "r9 rule.review review. awf nightly-review --input branch=main --input depth=2",
  ]);
});

Deno.test("LISTRULES renders every runner type, empty values as empty fields", async () => {
  await using d = await daemon();
  await talk(
    d.port,
    ...RULE_EXAMPLES.slice(2, 7),
    'x RULE SET rule.empty "" direct /bin/true ""',
  );
  assert.deepEqual(sortedLines(await talk(d.port, "r LISTRULES")), [
    "",
    "r OK",
    "r rule.empty  direct /bin/true ",
    "r rule.events events. amqp amqp://app:s3cret@mq.internal:5672/ scheduler job.due",
    "r rule.hook deploy. http POST https://ci.example.org/hooks/deploy",
    "r rule.ping ping. direct /usr/bin/ping -c 1 10.0.0.1",
    "r rule.queue queue. redis redis://cache.internal:6379/2 RPUSH queue:due",
    "r rule.review review. awf nightly-review --input branch=main --input depth=2",
  ]);
  assert.equal(
    await talk(d.port, "r REMOVERULE rule.hook", "s REMOVERULE rule.hook"),
    "r OK\ns ERROR\n",
  );
  assert.equal(
    await converse(d.port, "r LISTRULES\n").then((a) =>
      a.includes("rule.hook")
    ),
    false,
  );
});

Deno.test("STAT answers the 18 keys in order, then the extension keys 19 and 21-24 (protocol.md §6)", async () => {
  await using d = await daemon();
  await talk(
    d.port,
    "a RULE SET rule.backup backup. shell /bin/true",
    "b SET x.1 2026-04-01 02:00:00",
  );
  const answer = await talk(d.port, "r1 STAT");
  const lines = answer.split("\n");
  assert.deepEqual(lines.map((line) => line.split(" ")[1]), [
    "uptime_ns",
    "connections",
    "jobs_total",
    "jobs_planned",
    "jobs_triggered",
    "jobs_executed",
    "jobs_failed",
    "rules_total",
    "executions_pending",
    "executions_inflight",
    "persistence",
    "compression",
    "auth_enabled",
    "tls_enabled",
    "framerate",
    "version",
    "execution_concurrency",
    "execution_timeout",
    "persistence_writable",
    "jobs_recurring",
    "runs_recorded",
    "retries_scheduled",
    "execution_history",
    "jobs_expired",
    "cluster_role",
    "cluster_term",
    "OK",
    undefined,
  ]);
  assert.match(lines[0]!, /^r1 uptime_ns [0-9]+$/);
  assert.deepEqual(lines.slice(1, 26), [
    "r1 connections 1",
    "r1 jobs_total 1",
    "r1 jobs_planned 1",
    "r1 jobs_triggered 0",
    "r1 jobs_executed 0",
    "r1 jobs_failed 0",
    "r1 rules_total 1",
    "r1 executions_pending 0",
    "r1 executions_inflight 0",
    "r1 persistence memory",
    "r1 compression idle",
    "r1 auth_enabled 0",
    "r1 tls_enabled 0",
    "r1 framerate 512",
    "r1 version 0.1.0",
    "r1 execution_concurrency 16",
    "r1 execution_timeout 0",
    "r1 persistence_writable 1",
    "r1 jobs_recurring 0",
    "r1 runs_recorded 0",
    "r1 retries_scheduled 0",
    "r1 execution_history 10",
    "r1 jobs_expired 0",
    "r1 cluster_role single",
    "r1 cluster_term 0",
  ]);
});

Deno.test("a batch over one connection is answered in order (protocol.md §11)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(
      d.port,
      "r1 SET job.1 2026-04-01 08:00:00",
      "r2 SET job.2 2026-04-01 09:00:00",
      "r3 SET job.3 2026-04-01 10:00:00",
    ),
    "r1 OK\nr2 OK\nr3 OK\n",
  );
});

Deno.test("pipelined requests see the effects of earlier ones (protocol.md §1)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(
      d.port,
      "a SET j 1775008800000000000",
      "b GET j",
      "c SET j 2026-04-02 08:00:00",
      "d GET j",
      "e REMOVE j",
      "f GET j",
    ),
    "a OK\nb OK planned 1775008800000000000\nc OK\nd OK planned 1775116800000000000\ne OK\nf ERROR\n",
  );
});

Deno.test("timestamps: quoted datetime, leading zeros, negative and extreme values (protocol.md §5)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(
      d.port,
      'a SET q "2026-04-01 02:00:00"',
      "b GET q",
      "c SET z 0001775008800000000000",
      "d GET z",
      "e SET max 9223372036854775807",
      "f GET max",
      "g SET dt.max 2262-04-11 23:47:16",
      "h GET dt.max",
    ),
    "a OK\nb OK planned 1775008800000000000\nc OK\nd OK planned 1775008800000000000\n" +
      "e OK\nf OK planned 9223372036854775807\ng OK\nh OK planned 9223372036000000000\n",
  );
});

Deno.test("a SET on an existing job replaces its time and keeps it planned (protocol.md §7)", async () => {
  await using d = await daemon();
  assert.equal(
    await talk(
      d.port,
      "r1 SET my.job.1 2026-04-01 08:00:00",
      "r2 SET my.job.1 2026-04-02 08:00:00",
      "r3 GET my.job.1",
      "r4 SET my.job.1 2026-04-02 08:00:00",
    ),
    "r1 OK\nr2 OK\nr3 OK planned 1775116800000000000\nr4 OK\n",
  );
});
