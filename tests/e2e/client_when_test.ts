/**
 * Every `<when>` form of `ztick set` through the real executable against a
 * real daemon: what GET reads back is the instant meant (spec: client.md §2).
 */
import assert from "node:assert/strict";
import { startDaemon } from "./_client.ts";

const S = 1_000_000_000n;

Deno.test("set reads every <when> form into the nanoseconds GET shows", async () => {
  await using d = await startDaemon();
  const cases: [args: string[], env: Record<string, string>, ns: bigint][] = [
    [["2099-01-01T00:00:00Z"], {}, 4070908800n * S],
    [["2099-01-01T02:00:00+02:00"], {}, 4070908800n * S],
    [["2098-12-31T19:00:00-05:00"], {}, 4070908800n * S],
    [["2099-01-01T00:00:00.123456789Z"], {}, 4070908800n * S + 123456789n],
    // Local times: --tz, else $TZ.
    [["2099-01-01 01:00", "--tz", "Europe/Paris"], {}, 4070908800n * S],
    [["2099-01-01T01:00:00"], { TZ: "Europe/Paris" }, 4070908800n * S],
    [["2099-01-01", "01:00:00"], { TZ: "Europe/Paris" }, 4070908800n * S],
    [["2099-01-01 00:00"], {}, 4070908800n * S], // TZ=UTC
    // Paris 2099-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z): the gap
    // maps to its end; 2099-10-25 02:30 happens twice: the first (00:30Z).
    [["2099-03-29 02:30", "--tz", "Europe/Paris"], {}, 4078429200n * S],
    [["2099-10-25 02:30"], { TZ: "Europe/Paris" }, 4096571400n * S],
    [["1775008800000000000"], {}, 1775008800000000000n],
    [["@4070908800"], {}, 4070908800n * S],
    [["@4070908800000ms"], {}, 4070908800n * S],
    [["--", "-1000000000000000000"], {}, -1000000000000000000n],
  ];
  for (const [i, [args, env, ns]] of cases.entries()) {
    const set = await d.run(["set", `w.${i}`, ...args], env);
    assert.deepEqual(set, { code: 0, stdout: "", stderr: "" }, args.join(" "));
    const { stdout } = await d.run(["get", `w.${i}`]);
    assert.equal(stdout.split(" ")[1], String(ns), args.join(" "));
  }
});

Deno.test("set reads now and +<duration> from the client's clock", async () => {
  await using d = await startDaemon();
  const cases: [string, bigint][] = [
    ["+10m", 600n * S],
    ["+2h30m", 9000n * S],
    ["+1d", 86_400n * S],
    ["+45s", 45n * S],
  ];
  for (const [when, offset] of cases) {
    const before = BigInt(Date.now()) * 1_000_000n;
    assert.equal((await d.run(["set", `rel.${when}`, when])).code, 0);
    const after = BigInt(Date.now()) * 1_000_000n;
    const ns = BigInt(
      (await d.run(["get", `rel.${when}`])).stdout.split(" ")[1]!,
    );
    assert.ok(ns >= before + offset && ns <= after + offset, when);
  }
  const before = BigInt(Date.now()) * 1_000_000n;
  assert.equal((await d.run(["set", "rel.now", "now"])).code, 0);
  const ns = BigInt((await d.run(["get", "rel.now"])).stdout.split(" ")[1]!);
  assert.ok(ns >= before && ns <= BigInt(Date.now()) * 1_000_000n);
});

Deno.test("an invalid <when> exits 2 with the problem and a usage line, and nothing is sent", async () => {
  await using d = await startDaemon();
  const cases: [string[], Record<string, string>, string][] = [
    [
      ["1775008800"],
      {},
      'Cannot read time "1775008800": ambiguous, use @<seconds> or @<ms>ms',
    ],
    [
      ["1775008800000"],
      {},
      'Cannot read time "1775008800000": ambiguous, use @<seconds> or @<ms>ms',
    ],
    [
      ["tomorrow"],
      {},
      'Cannot read time "tomorrow": expected an RFC 3339 time',
    ],
    [
      ["2026-02-30T00:00:00Z"],
      {},
      'Cannot read time "2026-02-30T00:00:00Z": no such date or time',
    ],
    [["+30m2h"], {}, "units must go from largest to smallest"],
    [
      ["2026-04-01 02:00", "--tz", "Mars/Olympus"],
      {},
      'Cannot use time zone "Mars/Olympus": unknown zone',
    ],
    [
      ["2026-04-01 02:00"],
      { TZ: "CET-1CEST" },
      'Cannot use $TZ "CET-1CEST": not a time zone name; use --tz ZONE',
    ],
  ];
  for (const [args, env, problem] of cases) {
    const { code, stdout, stderr } = await d.run(["set", "j", ...args], env);
    assert.equal(code, 2, args.join(" "));
    assert.equal(stdout, "");
    const [first, second, rest] = stderr.split("\n");
    assert.ok(first!.startsWith("error: ") && first!.includes(problem), first);
    assert.match(second!, /^usage: ztick set <job> <when>/);
    assert.equal(rest, "");
  }
  assert.doesNotMatch(d.daemon.log, /request c1/);
  assert.equal((await d.run(["query"])).stdout, "");
});
