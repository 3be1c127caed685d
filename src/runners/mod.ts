import type { Runner } from "../domain/runner.ts";
import { logger } from "../log.ts";
import type { Execution, Executor, Outcome } from "../scheduler/ports.ts";
import { runProcess } from "./_process.ts";
import { runAmqp } from "./amqp.ts";
import { runHttp } from "./http.ts";
import { Http1Client } from "./_http1.ts";
import { runRedis } from "./redis.ts";
import { redactUrl } from "./redact.ts";

export { softOpenFileLimit } from "./_spawn_libc.ts";

const log = logger("runner");

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

  execute(execution: Execution): Promise<Outcome> {
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
    // The run's message carries both (spec: extensions.md §3): redacted here.
    const reason = redactUrl(outcome.reason);
    if (stderrTail === "") return { ...outcome, reason };
    const stderr = redactUrl(stderrTail);
    const { job, rule } = execution;
    // Written as one line: the log escapes the line breaks it holds.
    log.debug(`stderr of job ${job.id}: ${stderr}`, {
      job: job.id,
      rule: rule.id,
      runner: rule.runner.kind,
    });
    return { ...outcome, reason, stderr };
  }
}

/** argv after `awf` for a workflow rule (spec: runners.md §6). */
function awfArgs(runner: Extract<Runner, { kind: "awf" }>): string[] {
  return [
    "run",
    runner.workflow,
    ...runner.inputs.flatMap((v) => ["--input", v]),
  ];
}
