/** The dump runner and its follower, the canonical lines, shared by the dump tests. */
import assert from "node:assert/strict";
import { type DumpOptions, runDump } from "../../src/dump.ts";

export const ENCODER = new TextEncoder();
export const NOTICE =
  "notice: logfile was compacted; re-reading from the start\n";

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a dump to completion, capturing its output. */
export async function dump(
  logfile: string,
  options: Partial<DumpOptions> = {},
): Promise<Captured> {
  let stdout = "";
  let stderr = "";
  const code = await runDump({
    logfile,
    format: "text",
    compact: false,
    follow: false,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    ...options,
  });
  return { code, stdout, stderr };
}

/** A running `--follow` dump: its output so far and how to stop it. */
export interface Following {
  readonly out: { stdout: string; stderr: string };
  stop(): Promise<number>;
}

export function follow(
  logfile: string,
  options: Partial<DumpOptions> = {},
): Following {
  const out = { stdout: "", stderr: "" };
  const controller = new AbortController();
  const done = runDump({
    logfile,
    format: "text",
    compact: false,
    follow: true,
    pollMs: 20,
    signal: controller.signal,
    stdout: (text) => {
      out.stdout += text;
    },
    stderr: (text) => {
      out.stderr += text;
    },
    ...options,
  });
  return {
    out,
    stop() {
      controller.abort();
      return done;
    },
  };
}

/** Polls `predicate` until it holds, failing after `timeoutMs`. */
export async function waitFor(
  what: string,
  predicate: () => boolean,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function append(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { append: true });
}

/** One canonical line of every record and runner type. */
export const CANONICAL = [
  'RULE SET r.shell s. shell "/bin/echo hi"',
  "RULE SET r.direct d. direct /usr/bin/ping -c 1 10.0.0.1",
  "RULE SET r.direct0 d0. direct /bin/true",
  "RULE SET r.http h. http POST https://ci.example.org/hooks/deploy",
  'RULE SET r.awf a. awf nightly-review --input branch=main --input "depth 2"',
  "RULE SET r.awf0 a0. awf plain",
  "RULE SET r.amqp q. amqp amqp://app:s3cret@mq.internal:5672/ scheduler job.due",
  "RULE SET r.redis x. redis redis://cache.internal:6379/2 RPUSH queue:due",
  'RULE SET r.all "" shell "x y"',
  "SET backup.daily 1775008800000000000 executed",
  "SET big 9007199254740993 planned",
  "SET max 9223372036854775807 triggered",
  "SET neg -1000000000000000001 failed",
  'SET "odd \\"id\\"\\\\ é\t" 0 planned',
  "REMOVE gone",
  "REMOVERULE r.gone",
];

export const JSON_LINES = [
  '{"type":"rule_set","identifier":"r.shell","pattern":"s.","runner":{"type":"shell","command":"/bin/echo hi"}}',
  '{"type":"rule_set","identifier":"r.direct","pattern":"d.","runner":{"type":"direct","executable":"/usr/bin/ping","args":["-c","1","10.0.0.1"]}}',
  '{"type":"rule_set","identifier":"r.direct0","pattern":"d0.","runner":{"type":"direct","executable":"/bin/true","args":[]}}',
  '{"type":"rule_set","identifier":"r.http","pattern":"h.","runner":{"type":"http","method":"POST","url":"https://ci.example.org/hooks/deploy"}}',
  '{"type":"rule_set","identifier":"r.awf","pattern":"a.","runner":{"type":"awf","workflow":"nightly-review","inputs":["branch=main","depth 2"]}}',
  '{"type":"rule_set","identifier":"r.awf0","pattern":"a0.","runner":{"type":"awf","workflow":"plain","inputs":[]}}',
  '{"type":"rule_set","identifier":"r.amqp","pattern":"q.","runner":{"type":"amqp","dsn":"amqp://app:s3cret@mq.internal:5672/","exchange":"scheduler","routing_key":"job.due"}}',
  '{"type":"rule_set","identifier":"r.redis","pattern":"x.","runner":{"type":"redis","url":"redis://cache.internal:6379/2","command":"RPUSH","key":"queue:due"}}',
  '{"type":"rule_set","identifier":"r.all","pattern":"","runner":{"type":"shell","command":"x y"}}',
  '{"type":"set","identifier":"backup.daily","execution":1775008800000000000,"status":"executed"}',
  '{"type":"set","identifier":"big","execution":9007199254740993,"status":"planned"}',
  '{"type":"set","identifier":"max","execution":9223372036854775807,"status":"triggered"}',
  '{"type":"set","identifier":"neg","execution":-1000000000000000001,"status":"failed"}',
  '{"type":"set","identifier":"odd \\"id\\"\\\\ é\\t","execution":0,"status":"planned"}',
  '{"type":"remove","identifier":"gone"}',
  '{"type":"remove_rule","identifier":"r.gone"}',
];
