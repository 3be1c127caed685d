import type { Runner } from "../domain/runner.ts";
import { logger } from "../log.ts";
import type { Execution, Executor, Outcome } from "../scheduler/ports.ts";
import { runProcess } from "./_process.ts";
import { runAmqp } from "./amqp.ts";
import { runHttp } from "./http.ts";
import { Http1Client } from "./_http1.ts";
import { runRedis } from "./redis.ts";

export { softOpenFileLimit } from "./_spawn_libc.ts";

const log = logger("runner");
/** How much of the end of stderr the warn line of a failure shows. */
const STDERR_LINE_CHARS = 200;

/** What the runners need to know from the configuration. */
export interface RunnerOptions {
  /** `[shell] path` and `args` (spec: runners.md §3). */
  readonly shell: { readonly path: string; readonly args: readonly string[] };
  /** Sent as `User-Agent: ztick/<version>`. */
  readonly version: string;
}

/** Runs an execution with the runner its rule captured (spec: runners.md). */
export class RunnerExecutor implements Executor, Disposable {
  readonly #options: RunnerOptions;
  readonly #http = new Http1Client();

  constructor(options: RunnerOptions) {
    this.#options = options;
  }

  /** Closes the http runner's idle keep-alive connections. */
  [Symbol.dispose](): void {
    this.#http.close();
  }

  async execute(execution: Execution): Promise<Outcome> {
    const outcome = await this.#execute(execution);
    if (outcome.ok || outcome.detail !== undefined) return outcome;
    return { ...outcome, detail: networkDetail(outcome.reason) };
  }

  #execute(execution: Execution): Promise<Outcome> {
    const { runner } = execution.rule;
    switch (runner.kind) {
      case "shell": {
        const { path, args } = this.#options.shell;
        return this.#process(path, [...args, runner.command], execution);
      }
      case "direct":
        return this.#process(runner.executable, runner.args, execution);
      case "awf":
        return this.#process("awf", awfArgs(runner), execution);
      case "http":
        return runHttp(runner, execution, {
          version: this.#options.version,
          client: this.#http,
        });
      case "amqp":
        return runAmqp(runner, execution);
      case "redis":
        return runRedis(runner, execution);
    }
  }

  async #process(
    program: string,
    args: readonly string[],
    execution: Execution,
  ): Promise<Outcome> {
    const { outcome, stderrTail } = await runProcess(program, args, execution);
    if (outcome.ok) return outcome;
    const { job, rule } = execution;
    if (stderrTail !== "") {
      // Written as one line: the log escapes the line breaks it holds.
      log.debug(`stderr of job ${job.id}: ${stderrTail}`, {
        job: job.id,
        rule: rule.id,
        runner: rule.runner.kind,
      });
    }
    const end = lastChars(stderrTail.trimEnd(), STDERR_LINE_CHARS);
    const detail = processDetail(outcome.reason);
    return {
      ...outcome,
      ...(detail !== undefined ? { detail } : {}),
      ...(end !== "" ? { stderrTail: end } : {}),
    };
  }
}

/**
 * The detail token of a failed process, read from the process runner's
 * reasons; `undefined` when it was aborted (timeout or shutdown).
 */
function processDetail(reason: string): string | undefined {
  const exited = /^exited with code (-?[0-9]+)$/.exec(reason);
  if (exited) return `exit:${exited[1]}`;
  const killed = /^killed by (SIG[A-Z0-9]+)$/.exec(reason);
  if (killed) return `signal:${killed[1]}`;
  if (reason.startsWith("cannot run ")) return "spawn-error";
  return undefined;
}

/** The detail token of an http, amqp or redis failure. */
function networkDetail(reason: string): string {
  const answered = / answered ([0-9]{3})$/.exec(reason);
  return answered ? `http:${answered[1]}` : "error";
}

/** The last `count` characters of `text`, `…` first when cut. */
function lastChars(text: string, count: number): string {
  const chars = [...text];
  return chars.length <= count ? text : `…${chars.slice(-count).join("")}`;
}

/** argv after `awf` for a workflow rule (spec: runners.md §6). */
function awfArgs(runner: Extract<Runner, { kind: "awf" }>): string[] {
  return [
    "run",
    runner.workflow,
    ...runner.inputs.flatMap((v) => ["--input", v]),
  ];
}
