/**
 * What a daemon acknowledged, as end-to-end tests track it, and how to
 * compare a daemon's state against it.
 */
import assert from "node:assert/strict";
import { converse } from "./client.ts";

/** 2100-01-01T00:00:00Z: such jobs never fall due during a test. */
export const FAR_NS = 4_102_444_800_000_000_000n;
const ENCODER = new TextEncoder();

export type Status = "planned" | "triggered" | "executed" | "failed";

export interface JobState {
  readonly ns: bigint;
  readonly status: Status;
}

/** A rule as sent: its runner is the type followed by the arguments. */
export interface RuleState {
  readonly pattern: string;
  readonly runner: readonly string[];
}

/** What the daemon acknowledged, as the test tracks it. */
export class Model {
  readonly jobs = new Map<string, JobState>();
  readonly rules = new Map<string, RuleState>();

  /** The protocol lines that make this change, applied to the model. */
  setJob(requestId: string, id: string, ns: bigint): string {
    this.jobs.set(id, { ns, status: "planned" });
    return `${requestId} SET ${token(id)} ${ns}`;
  }

  removeJob(requestId: string, id: string): string {
    assert.ok(this.jobs.delete(id), `${id} is not there to remove`);
    return `${requestId} REMOVE ${token(id)}`;
  }

  setRule(requestId: string, id: string, rule: RuleState): string {
    this.rules.set(id, rule);
    return `${requestId} RULE SET ${
      [id, rule.pattern, ...rule.runner].map(token).join(" ")
    }`;
  }

  removeRule(requestId: string, id: string): string {
    assert.ok(this.rules.delete(id), `${id} is not there to remove`);
    return `${requestId} REMOVERULE ${token(id)}`;
  }

  /**
   * The logfile a compaction writes (spec: persistence.md §7): rules sorted
   * by id, then jobs sorted by id, in byte order.
   */
  canonicalLines(): string[] {
    const rules = sortByBytes([...this.rules.keys()]).map((id) => {
      const { pattern, runner } = this.rules.get(id)!;
      return `RULE SET ${[id, pattern, ...runner].map(token).join(" ")}`;
    });
    const jobs = sortByBytes([...this.jobs.keys()]).map((id) => {
      const { ns, status } = this.jobs.get(id)!;
      return `SET ${token(id)} ${ns} ${status}`;
    });
    return [...rules, ...jobs];
  }

  /** QUERY's job lines (without request id), sorted. */
  queryLines(): string[] {
    return [...this.jobs].map(([id, { ns, status }]) => `${id} ${status} ${ns}`)
      .sort();
  }

  /** LISTRULES' lines (without request id): values raw, sorted. */
  ruleLines(): string[] {
    return [...this.rules].map(([id, { pattern, runner }]) =>
      [id, pattern, ...runner].join(" ")
    ).sort();
  }
}

/**
 * Writes a token canonically (spec: persistence.md §2), which the protocol
 * also reads.
 */
export function token(value: string): string {
  if (value !== "" && !/[ \t"\\]/.test(value)) return value;
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Sorts strings by their UTF-8 bytes (UTF-16 order differs above U+FFFF). */
function sortByBytes(values: string[]): string[] {
  const keyed = values.map((value) => ({
    value,
    bytes: ENCODER.encode(value),
  }));
  keyed.sort((a, b) => {
    const n = Math.min(a.bytes.length, b.bytes.length);
    for (let i = 0; i < n; i++) {
      if (a.bytes[i] !== b.bytes[i]) return a.bytes[i]! - b.bytes[i]!;
    }
    return a.bytes.length - b.bytes.length;
  });
  return keyed.map(({ value }) => value);
}

/** Compares long line lists, naming the first difference (no giant diff). */
export function assertSameLines(
  actual: readonly string[],
  expected: readonly string[],
  what: string,
): void {
  const n = Math.max(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    if (actual[i] !== expected[i]) {
      throw new assert.AssertionError({
        message:
          `${what}: ${actual.length} lines, ${expected.length} expected; ` +
          `line ${i + 1} is ${JSON.stringify(actual[i])}, expected ${
            JSON.stringify(expected[i])
          }`,
      });
    }
  }
}

/** Splits an answer into the data lines of `requestId`, checking its final OK. */
export function dataLines(answer: string, requestId: string): string[] {
  const lines = answer.split("\n");
  assert.equal(lines.pop(), "", "answer without final LF");
  assert.equal(lines.pop(), `${requestId} OK`);
  return lines.map((line) => {
    assert.ok(line.startsWith(`${requestId} `), `unexpected line "${line}"`);
    return line.slice(requestId.length + 1);
  });
}

export async function stat(port: number): Promise<Map<string, string>> {
  const lines = dataLines(await converse(port, "s STAT\n"), "s");
  return new Map(lines.map((line) => {
    const space = line.indexOf(" ");
    return [line.slice(0, space), line.slice(space + 1)];
  }));
}

export async function statValue(port: number, key: string): Promise<string> {
  const value = (await stat(port)).get(key);
  assert.ok(value !== undefined, `STAT has no ${key}`);
  return value;
}

/** Checks QUERY and LISTRULES against the model. */
export async function assertState(
  port: number,
  model: Model,
  when: string,
): Promise<void> {
  const jobs = dataLines(await converse(port, "q QUERY\n"), "q").sort();
  assertSameLines(jobs, model.queryLines(), `QUERY ${when}`);
  const rules = dataLines(await converse(port, "l LISTRULES\n"), "l").sort();
  assert.deepEqual(rules, model.ruleLines(), `LISTRULES ${when}`);
}

/** Writes `<dir>/<name>` listening on a free port; the logfile is `logfile`. */
export async function writeConfig(
  dir: string,
  name: string,
  { logfile = `${dir}/logfile`, fsync = true, compressionIntervalS = 0 } = {},
): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(
    path,
    `[controller]\nlisten = "127.0.0.1:0"\n` +
      `[database]\nlogfile_path = "${logfile}"\n` +
      `fsync_on_persist = ${fsync}\ncompression_interval = ${compressionIntervalS}\n`,
  );
  return path;
}

/** Writes zeros until the filesystem is full; returns the bytes written. */
export async function fillDisk(path: string): Promise<number> {
  using file = await Deno.open(path, { write: true, create: true });
  let total = 0;
  for (const size of [65536, 4096, 512, 1]) {
    const chunk = new Uint8Array(size);
    for (;;) {
      try {
        total += await file.write(chunk);
      } catch (error) {
        assert.match(String(error), /No space left on device/);
        break;
      }
    }
  }
  return total;
}
