/**
 * Helpers of the client e2e tests: a real daemon in a child process, the
 * client run as `deno task start` runs it, JSON read with exact integers,
 * and a scripted server for answers today's daemon cannot give yet.
 */
import {
  DaemonProcess,
  type Finished,
  runZtick,
} from "../_helpers/subprocess.ts";

/** A daemon in a child process with its own directory. */
export interface ClientDaemon extends AsyncDisposable {
  readonly daemon: DaemonProcess;
  readonly port: number;
  readonly dir: string;
  readonly addr: string;
  /** Runs `ztick <command> --addr <this daemon> <args>`. */
  run(args: string[], env?: Record<string, string>): Promise<Finished>;
}

/** Starts `ztick -c` with a config on a free port plus `extra` TOML. */
export async function startDaemon(extra = ""): Promise<ClientDaemon> {
  const dir = await Deno.makeTempDir({ prefix: "ztick-client-" });
  const config = `${dir}/config.toml`;
  await Deno.writeTextFile(
    config,
    `[controller]\nlisten = "127.0.0.1:0"\n${extra}\n[database]\nlogfile_path = "${dir}/logfile"\nfsync_on_persist = false\n`,
  );
  const daemon = await DaemonProcess.start(config);
  const addr = `127.0.0.1:${daemon.port}`;
  return {
    daemon,
    port: daemon.port,
    dir,
    addr,
    run(args, env = {}) {
      // Right after the command words: in `rule set` an option after the
      // runner type would be a runner argument.
      const words = args[0] === "rule" ? 2 : 1;
      return ztick([
        ...args.slice(0, words),
        "--addr",
        addr,
        ...args.slice(words),
      ], env);
    },
    async [Symbol.asyncDispose]() {
      await daemon.stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Runs the client with `env` added; TZ is UTC unless given. */
export function ztick(
  args: string[],
  env: Record<string, string> = {},
): Promise<Finished> {
  return runZtick(args, { env: { TZ: "UTC", ...env } });
}

/** Parses JSON keeping every integer exact (as a bigint). */
export function parseExact(text: string): unknown {
  const reviver = (
    _key: string,
    value: unknown,
    context?: { source?: string },
  ) =>
    typeof value === "number" && context?.source !== undefined &&
      /^-?[0-9]+$/.test(context.source)
      ? BigInt(context.source)
      : value;
  return JSON.parse(text, reviver as (key: string, value: unknown) => unknown);
}

/** A server that records the lines it gets and answers from a script. */
export class ScriptedServer implements AsyncDisposable {
  readonly lines: string[] = [];
  readonly #listener: Deno.TcpListener;
  readonly #serving: Promise<void>;
  readonly #answer: (line: string) => string | undefined;

  /**
   * `answer` returns the text to send for a line (`undefined`: close
   * without answering; `""`: say nothing and wait).
   */
  constructor(answer: (line: string) => string | undefined) {
    this.#answer = answer;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#serving = this.#serve();
  }

  get addr(): string {
    return `127.0.0.1:${this.#listener.addr.port}`;
  }

  async #serve(): Promise<void> {
    const open: Promise<void>[] = [];
    try {
      for await (const conn of this.#listener) open.push(this.#talk(conn));
    } catch {
      // listener closed
    }
    await Promise.all(open);
  }

  async #talk(conn: Deno.Conn): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    const chunk = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(chunk);
        if (n === null) break;
        buffer += decoder.decode(chunk.subarray(0, n), { stream: true });
        let lf: number;
        while ((lf = buffer.indexOf("\n")) !== -1) {
          const line = buffer.slice(0, lf);
          buffer = buffer.slice(lf + 1);
          this.lines.push(line);
          const text = this.#answer(line);
          if (text === undefined) return;
          if (text !== "") await conn.write(new TextEncoder().encode(text));
        }
      }
    } catch {
      // the client went away
    } finally {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    await this.#serving;
  }
}
