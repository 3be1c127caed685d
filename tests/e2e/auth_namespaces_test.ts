/** Namespaces over real TCP: every cell of the protocol.md §8 table, including prefix escapes (the AUTH rows are in auth_test.ts). */
import assert from "node:assert/strict";
import { ADMIN_SECRET, DEPLOY_SECRET } from "./_security.ts";
import { as, authDaemon, sorted, T, T_NS } from "./_auth.ts";

// ---------------------------------------------------------------- §8 table

/** Sets the scene as the admin: jobs and rules inside and outside `deploy.`. */
async function scene(port: number): Promise<void> {
  const answer = await as(
    port,
    ADMIN_SECRET,
    `a SET deploy.a ${T}`,
    `b SET deployX.b ${T}`,
    `c SET backup.c ${T}`,
    `d SET deploy ${T}`,
    "e RULE SET deploy.r deploy. shell true",
    "f RULE SET deployX.r deployX. shell true",
    'g RULE SET other.r "" shell true',
    'h RULE SET deploy.wide "" shell true', // id inside, pattern everything
  );
  assert.equal(
    answer,
    "OK\na OK\nb OK\nc OK\nd OK\ne OK\nf OK\ng OK\nh OK\n",
  );
}

/** The admin's view of every job and rule, sorted. */
async function everything(port: number): Promise<string[]> {
  return sorted(await as(port, ADMIN_SECRET, "q QUERY", "l LISTRULES"));
}

Deno.test("§8 SET, GET, REMOVE: job id inside, else ERROR (no prefix escape)", async () => {
  await using a = await authDaemon();
  await scene(a.port);
  const before = await everything(a.port);
  assert.equal(
    await as(
      a.port,
      DEPLOY_SECRET,
      `s1 SET deployX.new ${T}`,
      `s2 SET deploy ${T}`, // the namespace without its dot is outside
      `s3 SET backup.new ${T}`,
      `s4 SET Deploy.new ${T}`,
      `s5 SET "" ${T}`,
      "g1 GET deployX.b",
      "g2 GET backup.c",
      "g3 GET deploy",
      "g4 GET deploy.a",
      "r1 REMOVE deployX.b",
      "r2 REMOVE backup.c",
      "r3 REMOVE deploy",
    ),
    "OK\n" +
      "s1 ERROR\ns2 ERROR\ns3 ERROR\ns4 ERROR\ns5 ERROR\n" +
      `g1 ERROR\ng2 ERROR\ng3 ERROR\ng4 OK planned ${T_NS}\n` +
      "r1 ERROR\nr2 ERROR\nr3 ERROR\n",
  );
  assert.deepEqual(await everything(a.port), before);
  assert.equal(
    await as(
      a.port,
      DEPLOY_SECRET,
      `s1 SET deploy.new ${T}`,
      `s2 SET deploy.a 1775044800000000001`,
      "r1 REMOVE deploy.new",
      "g1 GET deploy.new",
      "g2 GET deploy.a",
    ),
    "OK\ns1 OK\ns2 OK\nr1 OK\ng1 ERROR\ng2 OK planned 1775044800000000001\n",
  );
});

Deno.test("§8 RULE SET: rule id and pattern both inside, else ERROR", async () => {
  await using a = await authDaemon();
  await scene(a.port);
  const before = await everything(a.port);
  assert.equal(
    await as(
      a.port,
      DEPLOY_SECRET,
      "r1 RULE SET deploy.n backup. shell true", // pattern outside
      'r2 RULE SET deploy.n "" shell true', // empty pattern: everything
      "r3 RULE SET deploy.n deploy shell true", // pattern escapes the dot
      "r4 RULE SET deploy.n deployX. shell true",
      "r5 RULE SET deployX.n deploy.x shell true", // id outside
      "r6 RULE SET backup.n deploy.x shell true",
      "r7 RULE SET deployX.r deployX. shell false", // overwrite outside
      "r8 RULE SET other.r deploy. shell false",
      'r9 RULE SET deploy.wide "" shell false', // own id, pattern outside
    ),
    "OK\n" +
      "r1 ERROR\nr2 ERROR\nr3 ERROR\nr4 ERROR\nr5 ERROR\nr6 ERROR\n" +
      "r7 ERROR\nr8 ERROR\nr9 ERROR\n",
  );
  assert.deepEqual(await everything(a.port), before);
  assert.equal(
    await as(
      a.port,
      DEPLOY_SECRET,
      "r1 RULE SET deploy.n deploy.x shell true",
      "r2 RULE SET deploy.r deploy. shell false", // replace own rule
      "r3 RULE SET deploy.m deploy. http POST https://example.org/",
    ),
    "OK\nr1 OK\nr2 OK\nr3 OK\n",
  );
});

Deno.test("§8 REMOVERULE: rule id inside, else ERROR", async () => {
  await using a = await authDaemon();
  await scene(a.port);
  assert.equal(
    await as(
      a.port,
      DEPLOY_SECRET,
      "r1 REMOVERULE deployX.r",
      "r2 REMOVERULE other.r",
      "r3 REMOVERULE deploy.r",
      "r4 REMOVERULE deploy.r",
      "r5 REMOVERULE deploy.wide", // id inside though its pattern is not
    ),
    "OK\nr1 ERROR\nr2 ERROR\nr3 OK\nr4 ERROR\nr5 OK\n",
  );
  assert.deepEqual(sorted(await as(a.port, ADMIN_SECRET, "l LISTRULES")), [
    "OK",
    "l OK",
    "l deployX.r deployX. shell true",
    "l other.r  shell true",
  ]);
});

Deno.test("§8 QUERY: any prefix accepted, only jobs inside listed", async () => {
  await using a = await authDaemon();
  await scene(a.port);
  const inside = `deploy.a planned ${T_NS}`;
  const cases: [string, string[]][] = [
    ["QUERY", [inside]],
    ['QUERY ""', [inside]],
    ["QUERY d", [inside]],
    ["QUERY deploy", [inside]],
    ["QUERY deploy.", [inside]],
    ["QUERY deploy.a", [inside]],
    ["QUERY deployX.", []],
    ["QUERY backup.", []],
    ["QUERY deploy.zzz", []],
  ];
  for (const [query, lines] of cases) {
    const answer = await as(a.port, DEPLOY_SECRET, `q ${query}`);
    assert.equal(
      answer,
      `OK\n${lines.map((line) => `q ${line}\n`).join("")}q OK\n`,
      query,
    );
  }
});

Deno.test("§8 LISTRULES: only rules whose id is inside", async () => {
  await using a = await authDaemon();
  await scene(a.port);
  const answer = await as(a.port, DEPLOY_SECRET, "l LISTRULES");
  assert.ok(answer.endsWith("l OK\n"));
  assert.deepEqual(sorted(answer), [
    "OK",
    "l OK",
    "l deploy.r deploy. shell true",
    "l deploy.wide  shell true",
  ]);
});

Deno.test("§8 STAT is not restricted; a * token touches everything", async () => {
  await using a = await authDaemon();
  await scene(a.port);
  const stat = await as(a.port, DEPLOY_SECRET, "s STAT");
  assert.match(stat, /^s jobs_total 4$/m);
  assert.match(stat, /^s rules_total 4$/m);
  assert.equal(
    await as(
      a.port,
      ADMIN_SECRET,
      `s1 SET anything.at.all ${T}`,
      "g1 GET deployX.b",
      'r1 RULE SET x.r "" shell true',
      "r2 REMOVERULE deployX.r",
      "r3 REMOVE backup.c",
      `s2 SET * ${T}`,
    ),
    `OK\ns1 OK\ng1 OK planned ${T_NS}\nr1 OK\nr2 OK\nr3 OK\ns2 OK\n`,
  );
  const all = await as(a.port, ADMIN_SECRET, "q QUERY");
  assert.equal(sorted(all).length, 2 + 5); // OK, q OK and five jobs
});
