/**
 * Starts a child with `posix_spawnp` (glibc: `clone(CLONE_VM|CLONE_VFORK)`,
 * so the cost does not grow with the daemon's memory) in a new session, with
 * stdin and stdout on `/dev/null`, stderr on a pipe and every other fd
 * closed. The call runs on Deno's blocking pool (`nonblocking: true`), so
 * the main thread never waits for the child's exec.
 *
 * @module
 */
import { Environ } from "./_spawn_environ.ts";
import { type ChildExit, ExitWatcher } from "./_spawn_exits.ts";
import {
  addressOf,
  C,
  lastErrno,
  type Libc,
  openLibc,
  osError,
} from "./_spawn_libc.ts";

/** A started child, or why it could not start. */
export type SpawnResult =
  | { readonly kind: "spawned"; readonly pid: number; exit: Promise<ChildExit> }
  | { readonly kind: "failed"; readonly reason: string };

const encoder = new TextEncoder();
const DEV_NULL = encoder.encode("/dev/null\0");
/** Where glibc's `execvp` and Deno run a file the kernel cannot exec. */
const SHELL = "/bin/sh";

/** Tuning for tests; the daemon passes nothing. */
export interface SpawnerOptions {
  /**
   * One blocking `waitpid` per child on the pool instead of epoll (what a
   * child without a pidfd gets).
   */
  readonly blockingWait?: boolean;
  /**
   * How many `posix_spawnp` calls may run at once (default 4): each holds
   * one of the blocking pool's 32 threads, which file-system calls share.
   */
  readonly maxParallelSpawns?: number;
}

/** Spawns children and hands them to one {@link ExitWatcher}. */
export class Spawner implements AsyncDisposable {
  readonly #libc: Libc;
  readonly #environ: Environ;
  readonly #watcher: ExitWatcher;
  readonly #attr = new Uint8Array(C.SPAWNATTR_BYTES);
  readonly #maxSpawning: number;
  readonly #queue: (() => void)[] = [];
  #spawning = 0;

  /** @throws {Error} when the spawn attributes or epoll set cannot be set up */
  constructor(libc: Libc, options: SpawnerOptions = {}) {
    this.#libc = libc;
    this.#maxSpawning = options.maxParallelSpawns ?? 4;
    this.#environ = new Environ(libc);
    this.#watcher = new ExitWatcher(libc, {
      blockingWait: options.blockingWait ?? false,
    });
    this.#initAttributes();
  }

  /** How many children are still being waited for. */
  get running(): number {
    return this.#watcher.size;
  }

  /** Closes the exit watcher's descriptors (for spawners tests make). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#watcher.close();
  }

  /**
   * Starts `program` (searched in the daemon's `PATH` when it has no `/`)
   * with `args` and the daemon's environment plus `env` (`NAME=value`).
   * Does not start it when `signal` aborted while it waited for a slot.
   */
  async spawn(
    program: string,
    args: readonly string[],
    env: readonly string[],
    signal?: AbortSignal,
  ): Promise<SpawnResult | { readonly kind: "aborted" }> {
    await this.#acquire();
    try {
      if (signal?.aborted) return { kind: "aborted" };
      const argv = [program, ...args];
      const result = await this.#spawnOnce(program, argv, env);
      if (result.kind !== "noexec") return result;
      // Deno (like glibc's execvp) runs a file without `#!` through the shell.
      const path = program.includes("/") ? program : this.#resolve(program);
      const retried = await this.#spawnOnce(SHELL, [SHELL, path, ...args], env);
      return retried.kind === "noexec"
        ? this.#failed(SHELL, C.ENOEXEC)
        : retried;
    } finally {
      this.#release();
    }
  }

  /** Waits for one of the {@link SpawnerOptions.maxParallelSpawns} slots. */
  async #acquire(): Promise<void> {
    if (this.#spawning < this.#maxSpawning) {
      this.#spawning++;
      return;
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#queue.push(resolve);
    await promise; // the slot is handed over by #release
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next === undefined) this.#spawning--;
    else next();
  }

  async #spawnOnce(
    file: string,
    argv: readonly string[],
    env: readonly string[],
  ): Promise<SpawnResult | { readonly kind: "noexec" }> {
    const strings = [file, ...argv, ...env];
    if (strings.some((s) => s.includes("\0"))) {
      return {
        kind: "failed",
        reason: `Failed to spawn '${file}': nul byte found in provided data`,
      };
    }
    const memory = pack(this.#libc, strings);
    const argvArray = pointerArray(memory.addresses.slice(1, argv.length + 1));
    const envp = pointerArray([
      ...memory.addresses.slice(argv.length + 1),
      ...this.#environ.inherited(),
    ]);
    const pipe = this.#pipe();
    if (typeof pipe === "number") return this.#failed(file, pipe);
    const [readEnd, writeEnd] = pipe;
    const actions = this.#fileActions(writeEnd);
    const pid = new Int32Array(1);
    let error: number;
    try {
      error = await this.#libc.posix_spawnp(
        pid,
        memory.bytes, // `file` is the first string
        actions,
        this.#attr,
        argvArray,
        envp,
      );
    } finally {
      this.#libc.posix_spawn_file_actions_destroy(actions);
      this.#libc.close(writeEnd);
    }
    if (error !== 0) {
      this.#libc.close(readEnd);
      if (error === C.ENOEXEC) return { kind: "noexec" };
      return this.#failed(file, error);
    }
    return {
      kind: "spawned",
      pid: pid[0]!,
      exit: this.#watcher.watch(pid[0]!, readEnd),
    };
  }

  /** A close-on-exec pipe whose read end is non-blocking, or an errno. */
  #pipe(): [number, number] | number {
    const fds = new Int32Array(2);
    if (this.#libc.pipe2(fds, C.O_CLOEXEC) !== 0) return lastErrno(this.#libc);
    // Only the read end: the child's stderr must stay blocking.
    this.#libc.fcntl(fds[0]!, C.F_SETFL, C.O_NONBLOCK);
    return [fds[0]!, fds[1]!];
  }

  /** stdin/stdout `/dev/null`, stderr the pipe, fds from 3 on closed. */
  #fileActions(stderr: number): Uint8Array {
    const libc = this.#libc;
    const actions = new Uint8Array(C.FILE_ACTIONS_BYTES);
    libc.posix_spawn_file_actions_init(actions);
    libc.posix_spawn_file_actions_addopen(actions, 0, DEV_NULL, C.O_RDONLY, 0);
    libc.posix_spawn_file_actions_addopen(actions, 1, DEV_NULL, C.O_WRONLY, 0);
    libc.posix_spawn_file_actions_adddup2(actions, stderr, 2);
    // Deno's own fds are close-on-exec, but fds the daemon inherited may not be.
    libc.posix_spawn_file_actions_addclosefrom_np(actions, 3);
    return actions;
  }

  /**
   * New session (so the child leads a process group that can be killed
   * whole), an empty signal mask and SIGPIPE back to default (Deno ignores
   * it, and ignored signals survive exec), like Rust's `Command`.
   */
  #initAttributes(): void {
    const libc = this.#libc;
    const signals = new Uint8Array(C.SIGSET_BYTES);
    const failed = [
      libc.posix_spawnattr_init(this.#attr),
      libc.posix_spawnattr_setflags(
        this.#attr,
        C.POSIX_SPAWN_SETSID | C.POSIX_SPAWN_SETSIGMASK |
          C.POSIX_SPAWN_SETSIGDEF,
      ),
      libc.sigemptyset(signals),
      libc.posix_spawnattr_setsigmask(this.#attr, signals),
      libc.sigaddset(signals, C.SIGPIPE),
      libc.posix_spawnattr_setsigdefault(this.#attr, signals),
    ].some((result) => result !== 0);
    if (failed) throw new Error("cannot set up posix_spawn attributes");
  }

  /** The first executable `dir/name` along the daemon's `PATH`. */
  #resolve(name: string): string {
    for (const dir of this.#environ.pathDirectories()) {
      const path = `${dir === "" ? "." : dir}/${name}`;
      if (this.#libc.access(encoder.encode(`${path}\0`), C.X_OK) === 0) {
        return path;
      }
    }
    return name;
  }

  #failed(file: string, errno: number): SpawnResult {
    return {
      kind: "failed",
      reason: `Failed to spawn '${file}': ${osError(this.#libc, errno)}`,
    };
  }
}

/** NUL-terminated copies of `strings` in one buffer, and their addresses. */
function pack(
  libc: Libc,
  strings: readonly string[],
): { bytes: Uint8Array; addresses: bigint[] } {
  const encoded = strings.map((s) => encoder.encode(s));
  const size = encoded.reduce((sum, e) => sum + e.length + 1, 0);
  const bytes = new Uint8Array(size);
  const base = addressOf(libc, bytes);
  const addresses: bigint[] = [];
  let offset = 0;
  for (const e of encoded) {
    bytes.set(e, offset);
    addresses.push(base + BigInt(offset));
    offset += e.length + 1;
  }
  return { bytes, addresses };
}

/** A null-terminated `char *[]`. */
function pointerArray(addresses: readonly bigint[]): BigUint64Array {
  const array = new BigUint64Array(addresses.length + 1);
  array.set(addresses);
  return array;
}

let shared: Spawner | Error | undefined;

/** The process-wide spawner, or why FFI spawning is unavailable. */
export function spawner(): Spawner | Error {
  if (shared !== undefined) return shared;
  const libc = openLibc();
  if (libc instanceof Error) return shared = libc;
  try {
    return shared = new Spawner(libc.symbols);
  } catch (error) {
    return shared = error instanceof Error ? error : new Error(String(error));
  }
}
