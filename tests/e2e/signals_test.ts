/**
 * SIGUSR1 and SIGUSR2 never stop the daemon nor open Deno's inspector on
 * 127.0.0.1:9229 (spec: configuration.md §1, Signals). Every test that
 * touches port 9229 lives in this file, so none runs beside another.
 */
import assert from "node:assert/strict";
import {
  guardDebugSignals,
  SignalGuardError,
} from "../../src/debug_signals.ts";
import { converse } from "../_helpers/client.ts";
import { withTempDir } from "../_helpers/fs.ts";
import { writeConfig } from "../_helpers/model.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";

const LIBC = `/lib/${Deno.build.arch}-linux-gnu/libc.so.6`;
const FIXTURE = new URL("../fixtures/guarded_process.ts", import.meta.url)
  .pathname;
const INSPECTOR_PORT = 9229;
const SIGUSR1_BIT = 1n << 9n; // /proc masks: bit n-1 stands for signal n
const SIGUSR2_BIT = 1n << 11n;

type Event = Record<string, unknown> & { event: string };

/** A spawned `guarded_process.ts`, its JSON events and its stderr. */
class FixtureProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly startedAtMs = performance.now();
  readonly events: Event[] = [];
  stderr = "";
  status: Deno.CommandStatus | undefined;
  readonly #drained: Promise<unknown>;

  constructor(entry: string, args: string[]) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-ffi=${LIBC}`,
        "--allow-run=/bin/sh",
        entry,
        ...args,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
    }).spawn();
    this.#drained = Promise.all([
      this.#readStdout(),
      readText(this.child.stderr, (text) => this.stderr += text),
      this.child.status.then((status) => this.status = status),
    ]);
  }

  /** Milliseconds since the spawn. */
  get ageMs(): number {
    return performance.now() - this.startedAtMs;
  }

  async #readStdout(): Promise<void> {
    let pending = "";
    await readText(this.child.stdout, (text) => {
      const lines = (pending + text).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) this.events.push(JSON.parse(line));
    });
  }

  /** Resolves with the first event of that name, or rejects after timeoutMs. */
  async waitFor(name: string, timeoutMs = 5_000): Promise<Event> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const found = this.events.find((e) => e.event === name);
      if (found !== undefined) return found;
      if (this.status !== undefined) break;
      await sleep(5);
    }
    throw new Error(`No "${name}" event; status ${JSON.stringify(this.status)}
stderr: ${this.stderr}`);
  }

  /** Sends a signal, unless the process is already gone. */
  send(signal: Deno.Signal): void {
    if (this.status !== undefined) return;
    try {
      this.child.kill(signal);
    } catch (error) {
      // It exited before `status` settled: "Child process has already terminated".
      if (!(error instanceof TypeError)) throw error;
    }
  }

  /** Sends `signal` when the process is `atMs` old (at once if older). */
  async sendAt(atMs: number, signal: Deno.Signal): Promise<void> {
    await sleep(atMs - this.ageMs);
    this.send(signal);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.send("SIGKILL");
    await this.#drained;
  }
}

async function readText(
  stream: ReadableStream<Uint8Array>,
  onText: (text: string) => void,
): Promise<void> {
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    onText(text);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Whether something accepts connections on 127.0.0.1:9229. */
async function isInspectorListening(): Promise<boolean> {
  try {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: INSPECTOR_PORT,
    });
    conn.close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) return false;
    throw error;
  }
}

/** Fails early, with the real reason, when something else holds :9229. */
async function assertPortFree(): Promise<void> {
  const busy = await isInspectorListening();
  assert.equal(busy, false, "another process listens on 127.0.0.1:9229");
}

/** Sends SIGUSR1 and SIGUSR2 early, across the 500 ms grace period and late. */
async function sendDebugSignals(fixture: FixtureProcess): Promise<void> {
  fixture.send("SIGUSR1");
  fixture.send("SIGUSR2");
  for (let atMs = 350; atMs <= 750; atMs += 25) {
    await fixture.sendAt(atMs, "SIGUSR1");
  }
  await fixture.sendAt(1_000, "SIGUSR1");
  fixture.send("SIGUSR2");
  await fixture.waitFor("checked");
  for (let i = 0; i < 3; i++) {
    await fixture.sendAt(fixture.ageMs + 50, "SIGUSR1");
  }
  fixture.send("SIGUSR2");
  await sleep(300);
}

/** Runs the idle scenario and checks the guard held. */
async function assertGuardHolds(entry: string, args: string[]): Promise<void> {
  await assertPortFree();
  await using fixture = new FixtureProcess(entry, ["idle", ...args]);
  const guarded = await fixture.waitFor("guarded");
  assert.deepEqual(guarded.previous, { SIGUSR1: "other", SIGUSR2: "other" });
  await sendDebugSignals(fixture);
  assert.equal(fixture.status, undefined, "the process is still running");
  assert.equal(await isInspectorListening(), false, "nothing on :9229");
  assert.deepEqual((await fixture.waitFor("checked")).changed, []);
  fixture.send("SIGTERM");
  await fixture.waitFor("stopping");
  assert.equal((await fixture.child.status).code, 0);
  assert.doesNotMatch(fixture.stderr, /Debugger listening/);
}

/** Parses `SigIgn` and `SigCgt` from /proc/<pid>/status text. */
function parseMasks(status: string): { ignored: bigint; caught: bigint } {
  const mask = (name: string) => {
    const match = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, "m").exec(status);
    assert.ok(match?.[1], `no ${name} in ${status}`);
    return BigInt(`0x${match[1]}`);
  };
  return { ignored: mask("SigIgn"), caught: mask("SigCgt") };
}

Deno.test("guardDebugSignals() keeps SIGUSR1/SIGUSR2 harmless in `deno run`", async () => {
  await assertGuardHolds(FIXTURE, []);
});

Deno.test("guardDebugSignals() keeps SIGUSR1/SIGUSR2 harmless in a bundle", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-signals-" });
  try {
    const bundle = `${dir}/guarded.js`;
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "deno", "-o", bundle, FIXTURE],
      stdout: "null",
      env: { NO_COLOR: "1" },
    }).output();
    assert.ok(success, new TextDecoder().decode(stderr));
    await assertGuardHolds(bundle, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("guardDebugSignals() still works when applied after the grace period", async () => {
  await assertPortFree();
  await using fixture = new FixtureProcess(FIXTURE, ["idle", "late"]);
  await fixture.waitFor("guarded");
  assert.ok(fixture.ageMs > 700, "the runtime subscribed to SIGUSR1 first");
  for (let i = 0; i < 3; i++) {
    await fixture.sendAt(fixture.ageMs + 50, "SIGUSR1");
  }
  fixture.send("SIGUSR2");
  await sleep(300);
  assert.equal(fixture.status, undefined);
  assert.equal(await isInspectorListening(), false);
});

Deno.test("guardDebugSignals() leaves default SIGUSR1/SIGUSR2 to children", async () => {
  await using fixture = new FixtureProcess(FIXTURE, ["child"]);
  const child = await fixture.waitFor("child");
  const { ignored, caught } = parseMasks(String(child.stdout));
  assert.equal(ignored & (SIGUSR1_BIT | SIGUSR2_BIT), 0n);
  assert.equal(caught & (SIGUSR1_BIT | SIGUSR2_BIT), 0n);
  assert.equal(child.signal, "SIGUSR1", "the shell died of its own SIGUSR1");
});

Deno.test("without the guard, SIGUSR1 opens the inspector after the grace period", async () => {
  await assertPortFree();
  await using fixture = new FixtureProcess(FIXTURE, ["idle", "none"]);
  await fixture.waitFor("unguarded");
  await fixture.sendAt(1_000, "SIGUSR1");
  const deadline = performance.now() + 3_000;
  while (!/Debugger listening/.test(fixture.stderr)) {
    assert.ok(performance.now() < deadline, `no banner: ${fixture.stderr}`);
    await sleep(10);
  }
  assert.equal(await isInspectorListening(), true);
  assert.equal(fixture.status, undefined);
});

Deno.test("without the guard, SIGUSR2 terminates the process", async () => {
  await using fixture = new FixtureProcess(FIXTURE, ["idle", "none"]);
  await fixture.waitFor("unguarded");
  await fixture.sendAt(700, "SIGUSR2");
  assert.equal((await fixture.child.status).signal, "SIGUSR2");
});

Deno.test({
  name: "guardDebugSignals() throws SignalGuardError without --allow-ffi",
  permissions: "none",
  fn() {
    // The resource sanitizer also proves no signal listener was left behind.
    assert.throws(
      () => guardDebugSignals({ libcPath: LIBC }),
      (error) =>
        error instanceof SignalGuardError &&
        error.message.includes(`needs --allow-ffi=${LIBC}`),
    );
  },
});

Deno.test("the daemon survives SIGUSR1 and SIGUSR2 and never opens :9229", async () => {
  await withTempDir("ztick-signals-", async (dir) => {
    await assertPortFree();
    const config = await writeConfig(dir, "config.toml");
    const daemon = await DaemonProcess.start(config);
    try {
      const startedMs = performance.now();
      for (const atMs of [0, 300, 500, 600, 700, 900, 1200]) {
        await sleep(atMs - (performance.now() - startedMs));
        Deno.kill(daemon.pid, atMs % 200 === 0 ? "SIGUSR2" : "SIGUSR1");
      }
      await sleep(300);
      assert.equal(await isInspectorListening(), false, "nothing on :9229");
      assert.equal(await converse(daemon.port, "r1 GET a\n"), "r1 ERROR\n");
      assert.doesNotMatch(daemon.log, /Debugger listening|inspector/i);
    } finally {
      assert.equal(await daemon.stop("SIGTERM"), 0);
    }
  });
});
