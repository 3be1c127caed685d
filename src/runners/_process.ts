/**
 * The process runners' common part (shell, direct, awf): a program in its
 * own session and process group, started with `posix_spawnp` through FFI
 * (spec: runners.md §2).
 *
 * `Deno.Command` with `detached: true` (setsid) makes Rust's standard
 * library fork the whole daemon on the main thread, whose cost grows with
 * the daemon's memory; `posix_spawnp` with `POSIX_SPAWN_SETSID` is a vfork
 * that does not, and it runs on Deno's blocking pool. Needs
 * `--allow-ffi=<path of libc.so.6>`, which the daemon has for its signal
 * guard; without it every execution fails and says so.
 *
 * @module
 */
import { DETAIL, exitDetail, signalDetail } from "../domain/run.ts";
import type { Execution, Outcome } from "../scheduler/ports.ts";
import type { ChildExit } from "./_spawn_exits.ts";
import { C, openLibc } from "./_spawn_libc.ts";
import { spawner } from "./_spawner.ts";

/** How long a process may outlive SIGTERM before SIGKILL (spec: runners.md §1). */
const KILL_GRACE_MS = 5000;

/** What a failed process left on stderr, for the debug log. */
export interface ProcessOutcome {
  readonly outcome: Outcome;
  readonly stderrTail: string;
}

// Opened at import (libc, the epoll set, an eventfd), as the daemon starts:
// not inside the first execution, which a test's leak check would flag.
spawner();

/** Linux signal names, as `Deno.CommandStatus.signal` spells them. */
const SIGNAL_NAMES = (
  "HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM " +
  "STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO " +
  "PWR SYS"
).split(" ").map((name) => `SIG${name}`);
/** glibc's first real-time signal (32 and 33 are its own). */
const SIGRTMIN = 34;

/**
 * Runs a program for an execution in its own process group, with the job
 * context in its environment, stdin empty and stdout discarded; on abort the
 * whole group gets SIGTERM, then SIGKILL after 5 s (spec: runners.md §2).
 */
export async function runProcess(
  program: string,
  args: readonly string[],
  { job, rule, signal }: Execution,
): Promise<ProcessOutcome> {
  if (signal.aborted) return failed(`${signal.reason}`, DETAIL.error);
  const runner = spawner();
  if (runner instanceof Error) {
    return failed(
      `cannot run "${program}": ${runner.message}`,
      DETAIL.spawnError,
    );
  }
  const started = await runner.spawn(program, args, [
    // the job id travels here, never inside a command string
    `ZTICK_JOB_ID=${job.id}`,
    `ZTICK_JOB_EXECUTION=${job.executionNs}`,
    `ZTICK_RULE_ID=${rule.id}`,
  ], signal);
  if (started.kind === "aborted") {
    return failed(`${signal.reason}`, DETAIL.error);
  }
  if (started.kind === "failed") {
    return failed(
      `cannot run "${program}": ${started.reason}`,
      DETAIL.spawnError,
    );
  }
  const { pid } = started;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    killGroup(pid, C.SIGTERM);
    killTimer = setTimeout(() => killGroup(pid, C.SIGKILL), KILL_GRACE_MS);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort(); // aborted while posix_spawnp ran
  try {
    const exit = await started.exit;
    const stderrTail = new TextDecoder().decode(exit.stderr);
    // Children of the group may still hold on after the leader died.
    if (signal.aborted) killGroup(pid, C.SIGKILL);
    return { outcome: outcomeOf(exit, signal), stderrTail };
  } finally {
    signal.removeEventListener("abort", onAbort);
    clearTimeout(killTimer);
  }
}

/** How many children the runners are still waiting for (0 when idle). */
export function runningProcesses(): number {
  const runner = spawner();
  return runner instanceof Error ? 0 : runner.running;
}

/**
 * A wait status as an outcome: aborted (timeout, shutdown), exit code 0,
 * else the code or the signal; its detail is `exit:<code>` or
 * `signal:<NAME>` (spec: extensions.md §3).
 */
function outcomeOf(exit: ChildExit, aborted: AbortSignal): Outcome {
  if (exit.kind === "lost") {
    return { ok: false, reason: exit.reason, detail: DETAIL.error };
  }
  const { status } = exit;
  const signal = status & 0x7f;
  const code = (status >> 8) & 0xff;
  const name = signalName(signal);
  const detail = signal === 0 ? exitDetail(code) : signalDetail(name);
  if (aborted.aborted) {
    return { ok: false, reason: `${aborted.reason}`, detail };
  }
  if (signal === 0 && code === 0) return { ok: true, detail };
  const reason = signal === 0
    ? `exited with code ${code}`
    : `killed by ${name}`;
  return { ok: false, reason, detail };
}

/**
 * A signal's name as `kill -l` prints it: `SIGKILL`, real-time ones
 * `SIGRTMIN+<n>` from glibc's SIGRTMIN (34), `SIG32` and `SIG33` below it.
 */
function signalName(signal: number): string {
  const name = SIGNAL_NAMES[signal - 1];
  if (name !== undefined) return name;
  if (signal < SIGRTMIN) return `SIG${signal}`;
  return signal === SIGRTMIN ? "SIGRTMIN" : `SIGRTMIN+${signal - SIGRTMIN}`;
}

function failed(reason: string, detail: string): ProcessOutcome {
  return { outcome: { ok: false, reason, detail }, stderrTail: "" };
}

/** Signals the process group `pid` leads; a group that is gone is fine. */
function killGroup(pid: number, signal: number): void {
  const libc = openLibc();
  if (!(libc instanceof Error)) libc.symbols.kill(-pid, signal);
}
