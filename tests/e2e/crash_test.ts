/**
 * Crash safety through the real daemon process: SIGKILL while clients flood
 * mutations, and while a compaction runs, loses no acknowledged mutation
 * (spec: persistence.md §5, §6, §7).
 *
 * The random choices come from one seed, printed at the start; set
 * `ZTICK_CRASH_SEED=<seed>` to replay them (timing still varies).
 */
import assert from "node:assert/strict";
import { converse, TestClient } from "../_helpers/client.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";
import { exists, withTempDir } from "../_helpers/fs.ts";
import { mulberry32 } from "../_helpers/random.ts";

const SEED = readSeed();
// deno-lint-ignore no-console
console.log(`crash_test: seed ${SEED} (replay with ZTICK_CRASH_SEED=${SEED})`);

/** 2100-01-01T00:00:00Z: no job of these tests ever falls due. */
const FAR_NS = 4_102_444_800_000_000_000n;
/** Requests each lane writes at once before reading their answers. */
const BATCH = 8;

function readSeed(): number {
  const text = Deno.env.get("ZTICK_CRASH_SEED");
  if (text === undefined) return crypto.getRandomValues(new Uint32Array(1))[0]!;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`Cannot use ZTICK_CRASH_SEED "${text}": not an integer`);
  }
  return seed >>> 0;
}

/** A PRNG for one part of one cycle, derived from the test seed. */
function derive(...parts: number[]): () => number {
  let h = SEED ^ 0x9e3779b9;
  for (const part of parts) h = Math.imul(h ^ part, 0x85ebca6b) ^ (h >>> 13);
  return mulberry32(h);
}

/** One mutation a lane sent: `value` is the job's new time; a REMOVE has none. */
interface Op {
  readonly requestId: string;
  readonly key: string;
  readonly value: bigint | undefined;
}

/**
 * One client connection with its own key space (`<prefix><n>`), so every
 * answer it reads is unambiguous: what it sent, in order, and how many of
 * those were acknowledged (answers come in request order).
 */
class Lane {
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

function apply(state: Map<string, bigint>, op: Op): void {
  if (op.value === undefined) state.delete(op.key);
  else state.set(op.key, op.value);
}

/** Errors a client sees once the daemon is killed. */
function isGone(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionRefused ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.NotConnected;
}

/** Sends batches of mutations and reads their answers until the daemon dies. */
async function flood(lane: Lane, port: number): Promise<void> {
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
async function readJobs(port: number): Promise<Map<string, bigint>> {
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
function pick(jobs: Map<string, bigint>, prefix: string): Map<string, bigint> {
  const picked = new Map<string, bigint>();
  for (const [id, ns] of jobs) if (id.startsWith(prefix)) picked.set(id, ns);
  return picked;
}

/** Checks every lane against the restarted daemon; returns unanswered ops kept. */
function verifyLanes(
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
function assertSameJobs(
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` every millisecond until it is true, or fails at the deadline. */
async function pollFast(
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

async function writeConfig(
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
async function restart(config: string): Promise<DaemonProcess> {
  const daemon = await DaemonProcess.start(config);
  assert.doesNotMatch(daemon.log, /skipped/, "a corrupt line after a crash");
  return daemon;
}

Deno.test(`SIGKILL during a flood of SETs and REMOVEs loses no acknowledged mutation (seed ${SEED})`, async () => {
  const cycles = 20;
  await withTempDir("ztick-crash-", async (dir) => {
    const config = await writeConfig(dir, 0);
    const lanes = Array.from({ length: 6 }, (_, i) => new Lane(`c${i}.`, 300));
    const random = derive(1);
    let daemon = await restart(config);
    let acked = 0;
    let kept = 0;
    let jobs = new Map<string, bigint>();
    try {
      for (let cycle = 0; cycle < cycles; cycle++) {
        lanes.forEach((lane, i) =>
          lane.startCycle(pick(jobs, lane.prefix), derive(1, cycle, i))
        );
        const floods = lanes.map((lane) => flood(lane, daemon.port));
        // The random moment of the kill is the point of this test.
        await sleep(10 + Math.floor(random() * 390));
        await daemon.stop("SIGKILL");
        await Promise.all(floods);
        daemon = await restart(config);
        jobs = await readJobs(daemon.port);
        const strays = [...jobs.keys()].filter((id) => !/^c\d\./.test(id));
        assert.deepEqual(strays, [], "jobs outside every lane");
        kept += verifyLanes(lanes, jobs, `cycle ${cycle}`);
        acked += lanes.reduce((sum, lane) => sum + lane.acked, 0);
      }
    } finally {
      await daemon.stop("SIGKILL");
    }
    // Enough acknowledged writes that the kills hit a busy daemon.
    assert.ok(acked > cycles * 50, `only ${acked} mutations acknowledged`);
    // deno-lint-ignore no-console
    console.log(
      `crash_test: ${cycles} kills, ${acked} acknowledged mutations checked, ` +
        `${kept} unanswered ones found applied`,
    );
  });
});

/**
 * Writes a logfile of `count` jobs in shuffled order, some superseded and
 * some removed, as a long-running daemon would leave it; returns its jobs.
 */
async function preload(
  path: string,
  count: number,
  random: () => number,
): Promise<Map<string, bigint>> {
  const ids = Array.from(
    { length: count },
    (_, i) => `load.${String(i).padStart(7, "0")}`,
  );
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  const jobs = new Map<string, bigint>();
  const lines: string[] = [];
  ids.forEach((id, i) => {
    jobs.set(id, FAR_NS + BigInt(i));
    lines.push(`SET ${id} ${FAR_NS + BigInt(i)} planned`);
    if (i % 10 === 9) {
      const other = ids[i - 5]!;
      if (random() < 0.5) {
        jobs.delete(other);
        lines.push(`REMOVE ${other}`);
      } else {
        jobs.set(other, FAR_NS - BigInt(i));
        lines.push(`SET ${other} ${FAR_NS - BigInt(i)} planned`);
      }
    }
  });
  lines.push("");
  await Deno.writeTextFile(path, lines.join("\n"), { mode: 0o600 });
  return jobs;
}

Deno.test(`SIGKILL during and right after a compaction loses no acknowledged mutation (seed ${SEED})`, async () => {
  await withTempDir("ztick-crash-", async (dir) => {
    const logfile = `${dir}/logfile`;
    const temp = `${logfile}.compact`;
    const loaded = await preload(logfile, 150_000, derive(2));
    // The first compaction starts one second after each start.
    const config = await writeConfig(dir, 1);
    const lanes = Array.from({ length: 4 }, (_, i) => new Lane(`c${i}.`, 300));
    const random = derive(2, 1);
    let daemon = await restart(config);
    let caught = 0;
    let ackedWhileCompacting = 0;
    let renamed = false;
    let attempts = 0;
    try {
      for (let attempt = 0;; attempt++) {
        attempts = attempt;
        // A leftover temp file is deleted before the daemon listens.
        assert.equal(await exists(temp), false, "leftover .compact survived");
        const jobs = await readJobs(daemon.port);
        assertSameJobs(pick(jobs, "load."), loaded, "preloaded jobs");
        verifyLanes(lanes, jobs, `attempt ${attempt}`);
        if (caught >= 3 && renamed) break;
        assert.ok(
          attempt < 10,
          `only ${caught} of ${attempt} kills landed during a compaction`,
        );
        lanes.forEach((lane, i) =>
          lane.startCycle(pick(jobs, lane.prefix), derive(2, attempt, i))
        );
        const floods = lanes.map((lane) => flood(lane, daemon.port));
        const acked = () => lanes.reduce((sum, lane) => sum + lane.acked, 0);
        let ackedAtStart = 0;
        if (caught < 3) {
          // The temp file exists from the start of a compaction to its rename.
          await pollFast(() => exists(temp), "a compaction to start");
          ackedAtStart = acked();
          await sleep(10 + Math.floor(random() * 100));
        } else {
          const { ino } = await Deno.stat(logfile);
          await pollFast(
            async () => (await Deno.stat(logfile)).ino !== ino,
            "a compaction to rename its file",
          );
        }
        await daemon.stop("SIGKILL");
        await Promise.all(floods);
        if (caught < 3) {
          // Still there after the kill: the rename had not happened yet.
          if (await exists(temp)) {
            caught++;
            ackedWhileCompacting += acked() - ackedAtStart;
          }
        } else {
          assert.equal(await exists(temp), false);
          renamed = true;
        }
        daemon = await restart(config);
      }
    } finally {
      await daemon.stop("SIGKILL");
    }
    assert.ok(ackedWhileCompacting > 0, "no SET acknowledged while compacting");
    // deno-lint-ignore no-console
    console.log(
      `crash_test: ${caught} kills during a compaction (${ackedWhileCompacting} ` +
        `mutations acknowledged meanwhile), 1 right after its rename, ` +
        `${attempts} attempts`,
    );
  });
});
