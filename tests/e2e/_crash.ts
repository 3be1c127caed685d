/** The seeded floods, lanes and checks shared by the crash tests; the seed is printed once. */
import assert from "node:assert/strict";
import { converse, TestClient } from "../_helpers/client.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";
import { mulberry32 } from "../_helpers/random.ts";

export const SEED = readSeed();
// deno-lint-ignore no-console
console.log(`crash_test: seed ${SEED} (replay with ZTICK_CRASH_SEED=${SEED})`);

/** 2100-01-01T00:00:00Z: no job of these tests ever falls due. */
export const FAR_NS = 4_102_444_800_000_000_000n;
/** Requests each lane writes at once before reading their answers. */
export const BATCH = 8;

export function readSeed(): number {
  const text = Deno.env.get("ZTICK_CRASH_SEED");
  if (text === undefined) return crypto.getRandomValues(new Uint32Array(1))[0]!;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`Cannot use ZTICK_CRASH_SEED "${text}": not an integer`);
  }
  return seed >>> 0;
}

/** A PRNG for one part of one cycle, derived from the test seed. */
export function derive(...parts: number[]): () => number {
  let h = SEED ^ 0x9e3779b9;
  for (const part of parts) h = Math.imul(h ^ part, 0x85ebca6b) ^ (h >>> 13);
  return mulberry32(h);
}

/** One mutation a lane sent: `value` is the job's new time; a REMOVE has none. */
export interface Op {
  readonly requestId: string;
  readonly key: string;
  readonly value: bigint | undefined;
}

/**
 * One client connection with its own key space (`<prefix><n>`), so every
 * answer it reads is unambiguous: what it sent, in order, and how many of
 * those were acknowledged (answers come in request order).
 */
export class Lane {
  readonly prefix: string;
  readonly #keys: number;
  /** The lane's jobs as the last restart showed them. */
  #base = new Map<string, bigint>();
  ops: Op[] = [];
  acked = 0;
  /** Jobs after every acknowledged op: the daemon's memory, as seen here. */
  #acknowledged = new Map<string, bigint>();
  /** Jobs after every sent op: tells which keys are worth removing. */
  #sent = new Map<string, bigint>();
  #counter = 0n;
  #random: () => number = Math.random;

  constructor(prefix: string, keys: number) {
    this.prefix = prefix;
    this.#keys = keys;
  }

  /** Starts a cycle from the state the daemon showed after a restart. */
  startCycle(base: Map<string, bigint>, random: () => number): void {
    this.#base = base;
    this.ops = [];
    this.acked = 0;
    this.#acknowledged = new Map(base);
    this.#sent = new Map(base);
    this.#random = random;
  }

  /** Picks the next mutation: a SET with a fresh time, or a REMOVE of a job. */
  nextLine(): string {
    const key = `${this.prefix}${Math.floor(this.#random() * this.#keys)}`;
    const requestId = `${this.prefix}${this.ops.length}`;
    if (this.#random() < 0.3 && this.#sent.has(key)) {
      this.ops.push({ requestId, key, value: undefined });
      this.#sent.delete(key);
      return `${requestId} REMOVE ${key}`;
    }
    // The time encodes a counter, so every write has its own value.
    const value = FAR_NS + this.#counter++;
    this.ops.push({ requestId, key, value });
    this.#sent.set(key, value);
    return `${requestId} SET ${key} ${value}`;
  }

  /** Records the answer to the oldest unanswered op. */
  ack(line: string): void {
    const op = this.ops[this.acked];
    if (op === undefined) throw new Error(`Unexpected answer "${line}"`);
    const exists = this.#acknowledged.has(op.key);
    if (line === `${op.requestId} OK`) {
      if (op.value === undefined) {
        assert.ok(exists, `${line}: REMOVE of a job that was not there`);
        this.#acknowledged.delete(op.key);
      } else {
        this.#acknowledged.set(op.key, op.value);
      }
    } else if (line === `${op.requestId} ERROR`) {
      // Only a REMOVE of a job that is not there may fail.
      assert.ok(
        op.value === undefined && !exists,
        `${op.requestId} for ${op.key} answered ERROR`,
      );
    } else {
      throw new Error(`Answer "${line}" does not match ${op.requestId}`);
    }
    this.acked++;
  }

  /**
   * Checks the lane's jobs after a restart: they must equal the state after
   * some prefix of the sent ops that contains every acknowledged one (ops of
   * one connection reach the logfile in order; an op sent but not answered
   * may or may not be there). Returns how many unanswered ops were kept.
   */
  verify(actual: Map<string, bigint>, context: string): number {
    const state = new Map(this.#base);
    for (let i = 0; i < this.acked; i++) apply(state, this.ops[i]!);
    const wrong = new Set<string>();
    for (const key of new Set([...state.keys(), ...actual.keys()])) {
      if (state.get(key) !== actual.get(key)) wrong.add(key);
    }
    const atAcked = [...wrong].slice(0, 5).map((key) =>
      `${key}: acknowledged ${state.get(key) ?? "removed"}, found ${
        actual.get(key) ?? "nothing"
      }`
    );
    for (let i = this.acked; wrong.size > 0 && i < this.ops.length; i++) {
      const op = this.ops[i]!;
      apply(state, op);
      if (state.get(op.key) === actual.get(op.key)) wrong.delete(op.key);
      else wrong.add(op.key);
      if (wrong.size === 0) return i + 1 - this.acked;
    }
    if (wrong.size === 0) return 0;
    throw new assert.AssertionError({
      message:
        `${context}, lane ${this.prefix}: after the restart its ${actual.size} jobs ` +
        `match no prefix of the ${this.ops.length} sent ops that holds the ${this.acked} ` +
        `acknowledged ones; first differences: ${atAcked.join("; ")}`,
    });
  }
}

export function apply(state: Map<string, bigint>, op: Op): void {
  if (op.value === undefined) state.delete(op.key);
  else state.set(op.key, op.value);
}

/** Errors a client sees once the daemon is killed. */
export function isGone(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionRefused ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.NotConnected;
}

/** Sends batches of mutations and reads their answers until the daemon dies. */
export async function flood(lane: Lane, port: number): Promise<void> {
  let client: TestClient;
  try {
    client = await TestClient.connect(port);
  } catch (error) {
    if (isGone(error)) return; // killed before this lane connected
    throw error;
  }
  try {
    for (;;) {
      let text = "";
      for (let i = 0; i < BATCH; i++) text += `${lane.nextLine()}\n`;
      try {
        await client.send(text);
      } catch (error) {
        if (isGone(error)) return;
        throw error;
      }
      for (let i = 0; i < BATCH; i++) {
        let line: string | undefined;
        try {
          line = await client.readLine();
        } catch (error) {
          if (isGone(error)) return;
          throw error;
        }
        if (line === undefined) return;
        lane.ack(line);
      }
    }
  } finally {
    client[Symbol.dispose]();
  }
}

/** Every job the daemon holds (all of them planned in these tests). */
export async function readJobs(port: number): Promise<Map<string, bigint>> {
  const answer = await converse(port, "q QUERY\n");
  const lines = answer.split("\n");
  assert.equal(lines.pop(), "");
  assert.equal(lines.pop(), "q OK");
  const jobs = new Map<string, bigint>();
  for (const line of lines) {
    const [requestId, id, status, ns, ...rest] = line.split(" ");
    assert.ok(
      requestId === "q" && id && status === "planned" && ns && !rest.length,
      `unexpected QUERY line "${line}"`,
    );
    jobs.set(id, BigInt(ns));
  }
  return jobs;
}

/** The jobs whose id starts with `prefix`. */
export function pick(
  jobs: Map<string, bigint>,
  prefix: string,
): Map<string, bigint> {
  const picked = new Map<string, bigint>();
  for (const [id, ns] of jobs) if (id.startsWith(prefix)) picked.set(id, ns);
  return picked;
}

/** Checks every lane against the restarted daemon; returns unanswered ops kept. */
export function verifyLanes(
  lanes: readonly Lane[],
  jobs: Map<string, bigint>,
  context: string,
): number {
  let kept = 0;
  for (const lane of lanes) {
    kept += lane.verify(pick(jobs, lane.prefix), `${context} (seed ${SEED})`);
  }
  return kept;
}

/** Compares big job maps; `deepEqual`'s diff of 100k entries takes ages. */
export function assertSameJobs(
  actual: Map<string, bigint>,
  expected: Map<string, bigint>,
  what: string,
): void {
  const wrong: string[] = [];
  for (const key of new Set([...expected.keys(), ...actual.keys()])) {
    if (actual.get(key) !== expected.get(key)) {
      wrong.push(
        `${key}: expected ${expected.get(key) ?? "nothing"}, found ${
          actual.get(key) ?? "nothing"
        }`,
      );
    }
  }
  if (wrong.length > 0) {
    throw new assert.AssertionError({
      message: `${what} differ (seed ${SEED}) in ${wrong.length} jobs: ${
        wrong.slice(0, 5).join("; ")
      }`,
    });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` every millisecond until it is true, or fails at the deadline. */
export async function pollFast(
  probe: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

export async function writeConfig(
  dir: string,
  compressionIntervalS: number,
): Promise<string> {
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(
    path,
    `[controller]\nlisten = "127.0.0.1:0"\n` +
      `[database]\nlogfile_path = "${dir}/logfile"\n` +
      `fsync_on_persist = true\ncompression_interval = ${compressionIntervalS}\n`,
  );
  return path;
}

/** Starts the daemon and checks replay found nothing corrupt. */
export async function restart(config: string): Promise<DaemonProcess> {
  const daemon = await DaemonProcess.start(config);
  assert.doesNotMatch(daemon.log, /skipped/, "a corrupt line after a crash");
  return daemon;
}
