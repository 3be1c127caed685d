/**
 * The slice of glibc the process runners call through FFI, and helpers
 * that read native memory with libc calls only.
 *
 * With a scoped `--allow-ffi=<libc path>`, Deno refuses every
 * `Deno.UnsafePointer` and `Deno.UnsafePointerView` operation (they need an
 * unscoped grant), but calling the symbols of a library opened with that
 * path is allowed. So addresses travel as integers (`usize`) and memory is
 * read with `memmove` into JS buffers.
 *
 * @module
 */
import { LIBC_CANDIDATES } from "../debug_signals.ts";
import { errorMessage } from "../errors.ts";

/** `fcntl`, `open`, `epoll`, `posix_spawn` and `rlimit` constants of Linux/glibc. */
export const C = {
  O_RDONLY: 0,
  O_WRONLY: 1,
  O_NONBLOCK: 0x800,
  O_CLOEXEC: 0x80000,
  F_SETFL: 4,
  EPOLL_CLOEXEC: 0x80000,
  EPOLL_CTL_ADD: 1,
  EPOLL_CTL_DEL: 2,
  EPOLLIN: 0x1,
  EFD_NONBLOCK: 0x800,
  EFD_CLOEXEC: 0x80000,
  X_OK: 1,
  WNOHANG: 1,
  SIGKILL: 9,
  SIGPIPE: 13,
  SIGTERM: 15,
  ENOEXEC: 8,
  EAGAIN: 11,
  RLIMIT_NOFILE: 7,
  RLIM_INFINITY: 0xffff_ffff_ffff_ffffn,
  POSIX_SPAWN_SETSIGDEF: 0x04,
  POSIX_SPAWN_SETSIGMASK: 0x08,
  POSIX_SPAWN_SETSID: 0x80,
  /** `sizeof(posix_spawn_file_actions_t)` */
  FILE_ACTIONS_BYTES: 80,
  /** `sizeof(posix_spawnattr_t)` */
  SPAWNATTR_BYTES: 336,
  /** `sizeof(sigset_t)` */
  SIGSET_BYTES: 128,
  /** `sizeof(struct epoll_event)`: packed on x86_64, padded on aarch64. */
  EPOLL_EVENT_BYTES: Deno.build.arch === "x86_64" ? 12 : 16,
} as const;

const SYMBOLS = {
  environ: { type: "pointer" },
  gnu_get_libc_version: { parameters: [], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
  strlenPtr: { name: "strlen", parameters: ["pointer"], result: "usize" },
  strlenAt: { name: "strlen", parameters: ["usize"], result: "usize" },
  copyFromPtr: {
    name: "memmove",
    parameters: ["buffer", "pointer", "usize"],
    result: "void",
  },
  copyFromAt: {
    name: "memmove",
    parameters: ["buffer", "usize", "usize"],
    result: "void",
  },
  /** `memmove(buf, buf, 0)` returns `buf`: the address of a JS buffer. */
  addressOf: {
    name: "memmove",
    parameters: ["buffer", "buffer", "usize"],
    result: "usize",
  },
  posix_spawnp: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  posix_spawn_file_actions_init: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawn_file_actions_addopen: {
    parameters: ["buffer", "i32", "buffer", "i32", "u32"],
    result: "i32",
  },
  posix_spawn_file_actions_adddup2: {
    parameters: ["buffer", "i32", "i32"],
    result: "i32",
  },
  posix_spawn_file_actions_addclosefrom_np: {
    parameters: ["buffer", "i32"],
    result: "i32",
  },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigmask: {
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
  posix_spawnattr_setsigdefault: {
    parameters: ["buffer", "buffer"],
    result: "i32",
  },
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  sigaddset: { parameters: ["buffer", "i32"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  // fcntl is variadic; one int argument passes the same way on x86_64/aarch64 Linux.
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  waitpidBlocking: {
    name: "waitpid",
    parameters: ["i32", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  eventfd_write: { parameters: ["i32", "u64"], result: "i32" },
  pidfd_open: { parameters: ["i32", "u32"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: {
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  access: { parameters: ["buffer", "i32"], result: "i32" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The libc symbols the runners use. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** glibc as opened: the granted path and its symbols. */
export interface OpenedLibc {
  readonly path: string;
  readonly symbols: Libc;
}

let opened: OpenedLibc | Error | undefined;

/**
 * Opens glibc once, at the first of the daemon's {@link LIBC_CANDIDATES}
 * that FFI is granted for, and keeps it open; returns the reason when it
 * cannot (no grant, no glibc, glibc older than 2.34). Never prompts.
 */
export function openLibc(): OpenedLibc | Error {
  if (opened !== undefined) return opened;
  const granted = LIBC_CANDIDATES.find((path) =>
    Deno.permissions.querySync({ name: "ffi", path }).state === "granted"
  );
  if (granted === undefined) {
    return opened = new Error(
      `no FFI permission for the C library (needs --allow-ffi=${
        LIBC_CANDIDATES.join(" or --allow-ffi=")
      })`,
    );
  }
  try {
    const { symbols } = Deno.dlopen(granted, SYMBOLS);
    const version = cString(symbols, symbols.gnu_get_libc_version());
    const [major = 0, minor = 0] = version.split(".").map(Number);
    if (major < 2 || (major === 2 && minor < 34)) {
      return opened = new Error(`glibc ${version} is older than 2.34`);
    }
    return opened = { path: granted, symbols };
  } catch (error) {
    return opened = new Error(
      `cannot open "${granted}": ${errorMessage(error)}`,
    );
  }
}

/**
 * The soft limit on open files of this process (`getrlimit(RLIMIT_NOFILE)`),
 * or `undefined` when it is unlimited or libc cannot be used.
 */
export function softOpenFileLimit(): number | undefined {
  const libc = openLibc();
  if (libc instanceof Error) return undefined;
  const limits = new BigUint64Array(2); // struct rlimit { cur, max }
  if (libc.symbols.getrlimit(C.RLIMIT_NOFILE, limits) !== 0) return undefined;
  const soft = limits[0]!;
  if (soft === C.RLIM_INFINITY || soft > BigInt(Number.MAX_SAFE_INTEGER)) {
    return undefined;
  }
  return soft > 0n ? Number(soft) : undefined;
}

const decoder = new TextDecoder();

/** Reads the NUL-terminated string a libc call returned. */
export function cString(libc: Libc, pointer: Deno.PointerValue): string {
  if (pointer === null) return "";
  const length = Number(libc.strlenPtr(pointer));
  const bytes = new Uint8Array(length);
  if (length > 0) libc.copyFromPtr(bytes, pointer, BigInt(length));
  return decoder.decode(bytes);
}

/** Reads the NUL-terminated string at a numeric address. */
export function cStringAt(libc: Libc, address: bigint): Uint8Array {
  const length = Number(libc.strlenAt(address));
  const bytes = new Uint8Array(length);
  if (length > 0) libc.copyFromAt(bytes, address, BigInt(length));
  return bytes;
}

const errnoCell = new Int32Array(1);

/** The calling thread's `errno`, right after a failed synchronous call. */
export function lastErrno(libc: Libc): number {
  libc.copyFromPtr(errnoCell, libc.__errno_location(), 4n);
  return errnoCell[0]!;
}

/** Formats an errno the way Rust's `io::Error` (and so Deno) does. */
export function osError(libc: Libc, errno: number): string {
  return `${cString(libc, libc.strerror(errno))} (os error ${errno})`;
}

/** The address of a JS buffer (stable: Deno keeps typed arrays off-heap). */
export function addressOf(libc: Libc, buffer: Uint8Array): bigint {
  return BigInt(libc.addressOf(buffer, buffer, 0n));
}
