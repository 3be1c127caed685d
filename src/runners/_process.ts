import type { Execution, Outcome } from "../scheduler/ports.ts";
import { DETAIL, exitDetail, signalDetail } from "../domain/run.ts";
import { errorMessage } from "../errors.ts";

/** How long a process may outlive SIGTERM before SIGKILL (spec: runners.md §1). */
const KILL_GRACE_MS = 5000;
/** How much of stderr is logged when a process fails (spec: runners.md §2). */
const STDERR_TAIL_BYTES = 4096;

/** What a failed process left on stderr, for the debug log. */
export interface ProcessOutcome {
  readonly outcome: Outcome;
  readonly stderrTail: string;
}

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
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args: [...args],
      env: { // the job id travels here, never inside a command string
        ZTICK_JOB_ID: job.id,
        ZTICK_JOB_EXECUTION: String(job.executionNs),
        ZTICK_RULE_ID: rule.id,
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      detached: true, // setsid: the child leads a group we can kill whole
    }).spawn();
  } catch (error) {
    return failed(
      `cannot run "${program}": ${errorMessage(error)}`,
      DETAIL.spawnError,
    );
  }
  const tail = new StderrTail(child.stderr);
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    killGroup(child.pid, "SIGTERM");
    killTimer = setTimeout(
      () => killGroup(child.pid, "SIGKILL"),
      KILL_GRACE_MS,
    );
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const status = await child.status;
    // Children of the group may still hold on after the leader died.
    if (signal.aborted) killGroup(child.pid, "SIGKILL");
    return {
      outcome: statusOutcome(status, signal),
      stderrTail: await tail.close(),
    };
  } finally {
    signal.removeEventListener("abort", onAbort);
    clearTimeout(killTimer);
  }
}

function failed(reason: string, detail: string): ProcessOutcome {
  return { outcome: { ok: false, reason, detail }, stderrTail: "" };
}

/**
 * How a process ended: aborted (timeout, shutdown), exit 0, or a failure;
 * its detail is `exit:<code>` or `signal:<NAME>` (spec: extensions.md §3).
 */
function statusOutcome(
  status: Deno.CommandStatus,
  signal: AbortSignal,
): Outcome {
  const detail = status.signal === null
    ? exitDetail(status.code)
    : signalDetail(status.signal);
  if (signal.aborted) return { ok: false, reason: `${signal.reason}`, detail };
  if (status.success) return { ok: true, detail };
  const reason = status.signal === null
    ? `exited with code ${status.code}`
    : `killed by ${status.signal}`;
  return { ok: false, reason, detail };
}

function killGroup(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pid, signal);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Keeps the last bytes of a stream; stops reading when closed. */
class StderrTail {
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
    this.#done = this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await this.#reader.read();
        if (done) return;
        this.#chunks.push(value);
        this.#bytes += value.length;
        while (this.#bytes - this.#chunks[0]!.length >= STDERR_TAIL_BYTES) {
          this.#bytes -= this.#chunks.shift()!.length;
        }
      }
    } catch {
      // cancelled, or the pipe broke: the tail is best effort
    }
  }

  /**
   * Returns the tail. A background grandchild may keep the pipe open after
   * the process ended, so reading stops here instead of waiting for EOF.
   */
  async close(): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise((resolve) => timer = setTimeout(resolve, 10));
    await Promise.race([this.#done, grace]);
    clearTimeout(timer);
    await this.#reader.cancel().catch(() => {});
    await this.#done;
    const all = new Uint8Array(this.#bytes);
    let offset = 0;
    for (const chunk of this.#chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return new TextDecoder().decode(
      all.subarray(Math.max(0, all.length - STDERR_TAIL_BYTES)),
    );
  }
}
