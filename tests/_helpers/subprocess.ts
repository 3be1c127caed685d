/** Runs `main.ts` (or the bundle) as a separate process, as a user would. */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** The permissions (and V8 flags) `deno task start` grants, from deno.json. */
export const DAEMON_PERMISSIONS: readonly string[] = JSON.parse(
  Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)),
).tasks.start.split(" ").filter((arg: string) =>
  arg.startsWith("--allow-") || arg.startsWith("--v8-flags")
);

/** The result of a finished command. */
export interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How {@link runZtick} runs a command. */
export interface RunOptions {
  readonly cwd?: string;
  readonly script?: string;
  /** Added to the environment (the rest is inherited). */
  readonly env?: Record<string, string>;
  /** Instead of the permissions of `deno task start`. */
  readonly permissions?: readonly string[];
}

/** Runs `ztick <args>` to completion. */
export async function runZtick(
  args: string[],
  options: RunOptions = {},
): Promise<Finished> {
  const permissions = options.permissions ?? DAEMON_PERMISSIONS;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", ...permissions, options.script ?? MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { NO_COLOR: "1", ...options.env },
    // A command that should have failed but started a daemon must not hang the test.
    signal: AbortSignal.timeout(30_000),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A daemon running in a child process. */
export class DaemonProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stderr: Promise<void>;
  #log = "";
  #waiters: (() => void)[] = [];
  port = 0;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#stderr = this.#collect();
  }

  /**
   * Starts `ztick -c <config>` and waits for its readiness line (`ready`,
   * whose group 1 is the port; the text format's line by default).
   */
  static async start(
    configPath: string,
    options: { cwd?: string; script?: string; ready?: RegExp } = {},
  ): Promise<DaemonProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-q",
        ...DAEMON_PERMISSIONS,
        options.script ?? MAIN,
        "-c",
        configPath,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      ...(options.cwd ? { cwd: options.cwd } : {}),
    }).spawn();
    const daemon = new DaemonProcess(child);
    const line = await daemon.waitForLog(
      options.ready ?? /\[INFO\] listening on \S+:(\d+)\n/,
    );
    daemon.port = Number(line[1]);
    return daemon;
  }

  /** Everything the daemon wrote to stderr so far. */
  get log(): string {
    return this.#log;
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** Waits until the log matches, or fails after `timeoutMs`. */
  async waitForLog(
    pattern: RegExp,
    timeoutMs = 15_000,
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.#log.match(pattern);
      if (match) return match;
      if (Date.now() > deadline) {
        throw new Error(`log never matched ${pattern}:\n${this.#log}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a signal and waits for the exit code. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<number> {
    try {
      this.#child.kill(signal);
    } catch {
      // already gone
    }
    const status = await this.#child.status;
    await this.#stderr;
    return status.code;
  }

  async #collect(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.#child.stderr) {
      this.#log += decoder.decode(chunk, { stream: true });
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop("SIGKILL");
  }
}
