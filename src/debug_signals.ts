/**
 * Makes SIGUSR1 and SIGUSR2 harmless no-ops for the whole Deno process
 * (spec: configuration.md §1 "Signals").
 *
 * @module
 */

/** A signal the guard neutralises. */
export type DebugSignal = "SIGUSR1" | "SIGUSR2";

/** What the kernel does with a signal, as read back through `sigaction(2)`. */
export type Disposition =
  | "default" // SIG_DFL: SIGUSR1/SIGUSR2 terminate the process
  | "ignore" // SIG_IGN: inherited across exec by every child
  | "noop" // the guard's C-level no-op handler (reset to SIG_DFL on exec)
  | "other"; // any other handler, e.g. the runtime's own signal handler

/** Options of {@linkcode guardDebugSignals}. */
export interface DebugSignalGuardOptions {
  /** Signals to neutralise; both by default. */
  readonly signals?: readonly DebugSignal[];
  /**
   * Absolute path of the C library, exactly as granted by `--allow-ffi=`
   * (Deno compares the string: no symlink resolution, no search path). By
   * default the first of {@linkcode LIBC_CANDIDATES} that is granted and opens.
   */
  readonly libcPath?: string;
}

/** The outcome of {@linkcode guardDebugSignals}. */
export interface DebugSignalGuard {
  /** The signals now neutralised. */
  readonly signals: readonly DebugSignal[];
  /** The C library used. */
  readonly libcPath: string;
  /** Each signal's disposition just before the guard replaced it. */
  readonly previous: Readonly<Partial<Record<DebugSignal, Disposition>>>;
  /** `performance.now()` when the guard was in force. */
  readonly appliedAtMs: number;
  /**
   * Re-reads the dispositions, re-applies the guard where something changed
   * them, and returns the signals that had to be re-applied.
   *
   * @throws {SignalGuardError} when the C library cannot be used any more
   */
  check(): DebugSignal[];
}

/** Raised when the guard cannot be put in place. */
export class SignalGuardError extends Error {
  override name = "SignalGuardError";
  /** Creates the error; `detail` says what failed. */
  constructor(readonly target: string, detail: string, options?: ErrorOptions) {
    super(`Cannot guard debug signals "${target}": ${detail}`, options);
  }
}

// Linux numbers on x86_64 and aarch64 (asm-generic); other ABIs differ.
const SIGNAL_NUMBERS: Readonly<Record<DebugSignal, number>> = {
  SIGUSR1: 10,
  SIGUSR2: 12,
};
const SUPPORTED_ARCHS: ReadonlySet<string> = new Set(["x86_64", "aarch64"]);

/**
 * Where glibc lives: Debian/Ubuntu, then Fedora/RHEL/SUSE, then Arch. The
 * start and compile tasks grant `--allow-ffi` to exactly these paths.
 */
export const LIBC_CANDIDATES: readonly string[] = [
  `/lib/${Deno.build.arch}-linux-gnu/libc.so.6`,
  "/lib64/libc.so.6",
  "/usr/lib/libc.so.6",
];

// glibc's `struct sigaction` on 64-bit Linux: handler (8 bytes), sa_mask
// (128 bytes), sa_flags (int), 4 bytes of padding, sa_restorer (8 bytes).
const SIGACTION_BYTES = 152;
const SA_FLAGS_OFFSET = 136;
const SA_RESTART = 0x10000000;
const SIG_DFL = 0n;
const SIG_IGN = 1n;
const RTLD_DEFAULT = 0n; // glibc: look the symbol up in the global scope
// getpid(2) is async-signal-safe, cannot fail (errno is left alone) and
// ignores the signal number it is called with: a ready-made C no-op.
const NOOP_SYMBOL = "getpid";

const LIBC_SYMBOLS = {
  sigaction: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // Addresses travel as "usize", not "pointer": Deno.UnsafePointer and
  // Deno.UnsafePointerView need an unscoped --allow-ffi, calls do not.
  dlsym: { parameters: ["usize", "buffer"], result: "usize" },
  __errno_location: { parameters: [], result: "usize" },
  memcpy: { parameters: ["buffer", "usize", "usize"], result: "usize" },
} as const satisfies Deno.ForeignLibraryInterface;

type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"];

/**
 * Makes SIGUSR1 and SIGUSR2 do nothing: they neither stop the process nor
 * let the runtime open its unauthenticated V8 inspector on 127.0.0.1:9229.
 *
 * Deno (2.9.2 and later, `cli/worker.rs`) waits 500 ms after start, then
 * subscribes to SIGUSR1 through its `deno_signals` crate. That crate sits on
 * signal-hook, whose registry calls `sigaction(2)` only the first time a
 * signal is subscribed in the process; later subscriptions only add an
 * entry to its table. So the guard:
 *
 * 1. adds a JS listener for each signal, which makes the runtime install
 *    its C handler now, once and for all (and keeps the default action,
 *    termination, from running while step 2 is pending);
 * 2. replaces that handler in the kernel with a C no-op (`getpid`, looked
 *    up with `dlsym`) through `sigaction(2)` via `Deno.dlopen`.
 *
 * From then on the kernel never calls the runtime's handler for these
 * signals, so its inspector subscription (whenever it happens) never fires,
 * and neither do JS listeners added later for them. A handler, unlike
 * SIG_IGN, is reset to the default on exec, so spawned commands start with
 * normal dispositions.
 *
 * Call it first thing at startup: before it runs, both signals still
 * terminate the process. Needs `--allow-ffi=<path of libc>` and nothing
 * else; Linux x86_64 and aarch64 with glibc 2.34 or later (`dlsym` in libc).
 *
 * @throws {SignalGuardError} on another platform, without the FFI
 * permission, or when a libc call fails
 *
 * @example First statement of the entry point
 * ```ts ignore
 * // deno run --allow-ffi=/lib/x86_64-linux-gnu/libc.so.6 … main.ts
 * const guard = guardDebugSignals();
 * setTimeout(() => {
 *   // After the runtime's 500 ms grace period: expected to be empty.
 *   const changed = guard.check();
 *   if (changed.length > 0) log.warn(`re-guarded ${changed.join(", ")}`);
 * }, 1_000);
 * ```
 */
export function guardDebugSignals(
  options: DebugSignalGuardOptions = {},
): DebugSignalGuard {
  const signals = [...(options.signals ?? ["SIGUSR1", "SIGUSR2"])];
  const library = openLibc(options.libcPath);
  const previous: Partial<Record<DebugSignal, Disposition>> = {};
  try {
    const libc = library.symbols;
    const handler = noopAddress(libc);
    for (const signal of signals) {
      // Step 1: the runtime's one and only sigaction() for this signal.
      Deno.addSignalListener(signal, ignoreSignal);
      previous[signal] = classify(readHandler(libc, signal), handler);
      writeHandler(libc, signal, handler); // step 2
      if (readHandler(libc, signal) !== handler) {
        throw new SignalGuardError(signal, "sigaction() did not take effect");
      }
    }
  } finally {
    // libc stays mapped (the runtime links it), so the handler stays valid.
    library.close();
  }
  const libcPath = library.path;
  return {
    signals,
    libcPath,
    previous,
    appliedAtMs: performance.now(),
    check: () => reapply(libcPath, signals),
  };
}

function reapply(
  libcPath: string,
  signals: readonly DebugSignal[],
): DebugSignal[] {
  const library = openLibc(libcPath);
  try {
    const libc = library.symbols;
    const handler = noopAddress(libc);
    const changed = signals.filter((s) => readHandler(libc, s) !== handler);
    for (const signal of changed) writeHandler(libc, signal, handler);
    return changed;
  } finally {
    library.close();
  }
}

function ignoreSignal(): void {}

interface OpenLibc {
  readonly path: string;
  readonly symbols: Libc;
  close(): void;
}

function openLibc(libcPath: string | undefined): OpenLibc {
  const { os, arch } = Deno.build;
  if (os !== "linux" || !SUPPORTED_ARCHS.has(arch)) {
    throw new SignalGuardError(`${os}/${arch}`, "unsupported platform");
  }
  const candidates = libcPath === undefined ? LIBC_CANDIDATES : [libcPath];
  // Query first: dlopen() would otherwise prompt on a terminal.
  const granted = candidates.filter((path) =>
    Deno.permissions.querySync({ name: "ffi", path }).state === "granted"
  );
  const failures: string[] = [];
  for (const path of granted) {
    try {
      const library = Deno.dlopen(path, LIBC_SYMBOLS);
      return { path, symbols: library.symbols, close: () => library.close() };
    } catch (error) {
      failures.push(`${error}`);
    }
  }
  const detail = granted.length === 0
    ? `needs --allow-ffi=${candidates.join(" or --allow-ffi=")}`
    : failures.join("; ");
  throw new SignalGuardError(candidates.join(", "), detail);
}

function noopAddress(libc: Libc): bigint {
  const name = new TextEncoder().encode(`${NOOP_SYMBOL}\0`);
  const address = BigInt(libc.dlsym(RTLD_DEFAULT, name));
  if (address === 0n) {
    throw new SignalGuardError(NOOP_SYMBOL, "dlsym() found no such symbol");
  }
  return address;
}

function readHandler(libc: Libc, signal: DebugSignal): bigint {
  const current = new Uint8Array(SIGACTION_BYTES);
  callSigaction(libc, signal, null, current);
  return new DataView(current.buffer).getBigUint64(0, true);
}

function writeHandler(libc: Libc, signal: DebugSignal, handler: bigint): void {
  const action = new Uint8Array(SIGACTION_BYTES); // empty sa_mask
  const view = new DataView(action.buffer);
  view.setBigUint64(0, handler, true);
  view.setInt32(SA_FLAGS_OFFSET, handler > SIG_IGN ? SA_RESTART : 0, true);
  callSigaction(libc, signal, action, null);
}

function callSigaction(
  libc: Libc,
  signal: DebugSignal,
  action: Uint8Array<ArrayBuffer> | null,
  previous: Uint8Array<ArrayBuffer> | null,
): void {
  if (libc.sigaction(SIGNAL_NUMBERS[signal], action, previous) === 0) return;
  const errno = new Int32Array(1);
  libc.memcpy(errno, libc.__errno_location(), BigInt(errno.byteLength));
  throw new SignalGuardError(signal, `sigaction() failed, errno ${errno[0]}`);
}

function classify(handler: bigint, guard: bigint): Disposition {
  if (handler === SIG_DFL) return "default";
  if (handler === SIG_IGN) return "ignore";
  return handler === guard ? "noop" : "other";
}
