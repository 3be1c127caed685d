/**
 * Waits for many children with one blocking call: an epoll set holds a
 * pidfd per child (readable once it exited) and the read end of its stderr
 * pipe. One `epoll_wait` runs at a time on Deno's blocking pool (which has
 * only 32 threads, shared with file-system calls), whatever the number of
 * children; it is only pending while there is a child to wait for.
 *
 * @module
 */
import { concat } from "../io.ts";
import { C, lastErrno, type Libc, osError } from "./_spawn_libc.ts";

/** How much of stderr is kept (spec: runners.md §2). */
export const STDERR_TAIL_BYTES = 4096;
/** Events taken per `epoll_wait`. */
const MAX_EVENTS = 64;
/** Bytes read per `read` (a pipe holds 64 KiB by default). */
const READ_BYTES = 65536n;
/** Reads after exit before giving up on a grandchild that keeps writing. */
const MAX_DRAIN_READS = 64;
/** Token of the wake-up eventfd; child tokens start at 2. */
const WAKE_TOKEN = 0;

/** How a child ended: its raw wait status, or why it could not be reaped. */
export type ChildExit =
  | { readonly kind: "exited"; readonly status: number; stderr: Uint8Array }
  | { readonly kind: "lost"; readonly reason: string; stderr: Uint8Array };

interface Watched {
  readonly id: number;
  readonly pid: number;
  pidfd: number;
  pipe: number;
  readonly tail: Tail;
  readonly resolve: (exit: ChildExit) => void;
}

/** Reaps children and collects the tail of their stderr. */
export class ExitWatcher {
  readonly #libc: Libc;
  readonly #epoll: number;
  readonly #wake: number;
  readonly #events = new Uint8Array(MAX_EVENTS * C.EPOLL_EVENT_BYTES);
  readonly #event = new Uint8Array(C.EPOLL_EVENT_BYTES);
  readonly #scratch = new Uint8Array(Number(READ_BYTES));
  readonly #status = new Int32Array(1);
  readonly #watched = new Map<number, Watched>();
  readonly #blockingWait: boolean;
  #nextId = 1;
  #waiting = false;
  /** Settles when the pending `epoll_wait` loop has ended. */
  #loopEnded: Promise<void> = Promise.resolve();

  /**
   * `blockingWait` waits for every child with its own blocking `waitpid` on
   * the pool (the fallback when there is no pidfd; for measurements).
   *
   * @throws {Error} when the epoll set or the eventfd cannot be created
   */
  constructor(libc: Libc, { blockingWait = false } = {}) {
    this.#libc = libc;
    this.#blockingWait = blockingWait;
    this.#epoll = libc.epoll_create1(C.EPOLL_CLOEXEC);
    if (this.#epoll < 0) throw this.#error("epoll_create1");
    this.#wake = libc.eventfd(0, C.EFD_CLOEXEC | C.EFD_NONBLOCK);
    if (this.#wake < 0) throw this.#error("eventfd");
    if (!this.#add(this.#wake, WAKE_TOKEN)) throw this.#error("epoll_ctl");
  }

  /** How many children are being waited for. */
  get size(): number {
    return this.#watched.size;
  }

  /**
   * Closes the epoll set and the eventfd once the wait loop has ended (a
   * watcher lives as long as the daemon; tests make their own).
   *
   * @throws {Error} while children are still watched
   */
  async close(): Promise<void> {
    if (this.#watched.size > 0) throw new Error("children are still watched");
    await this.#loopEnded;
    this.#libc.close(this.#wake);
    this.#libc.close(this.#epoll);
  }

  /**
   * Waits for `pid` to exit and reaps it; takes ownership of `pipe` (the
   * read end of its stderr, non-blocking). Never rejects.
   */
  watch(pid: number, pipe: number): Promise<ChildExit> {
    const { promise, resolve } = Promise.withResolvers<ChildExit>();
    const id = this.#nextId;
    this.#nextId = this.#nextId % 0x7fff_ffff + 1; // tokens stay 32-bit
    const entry: Watched = {
      id,
      pid,
      pidfd: this.#blockingWait ? -1 : this.#libc.pidfd_open(pid, 0),
      pipe,
      tail: new Tail(),
      resolve,
    };
    this.#watched.set(id, entry);
    if (entry.pipe >= 0 && !this.#add(entry.pipe, 2 * id + 1)) {
      this.#closePipe(entry);
    }
    if (entry.pidfd >= 0 && !this.#add(entry.pidfd, 2 * id)) {
      this.#libc.close(entry.pidfd);
      entry.pidfd = -1;
    }
    if (entry.pidfd < 0) this.#waitBlocking(entry); // fd limit, old kernel
    if (!this.#waiting) {
      this.#waiting = true;
      this.#loopEnded = this.#loop().catch((error) => this.#abandon(error));
    }
    return promise;
  }

  async #loop(): Promise<void> {
    let failures = 0;
    while (this.#watched.size > 0) {
      const count: number = await this.#libc.epoll_wait(
        this.#epoll,
        this.#events,
        MAX_EVENTS,
        -1,
      );
      if (count < 0) { // EINTR (errno is on the pool thread): try again
        if (++failures > 10) await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      failures = 0;
      const view = new DataView(this.#events.buffer);
      for (let i = 0; i < count; i++) {
        const at = i * C.EPOLL_EVENT_BYTES + (C.EPOLL_EVENT_BYTES - 8);
        this.#dispatch(view.getUint32(at, true));
      }
    }
    this.#waiting = false;
  }

  #dispatch(token: number): void {
    if (token === WAKE_TOKEN) {
      this.#libc.read(this.#wake, this.#scratch, 8n);
      return;
    }
    const entry = this.#watched.get(token >>> 1);
    if (entry === undefined) return; // closed while this batch was pending
    if (token & 1) {
      if (entry.pipe >= 0 && this.#readOnce(entry) === "closed") {
        this.#closePipe(entry);
      }
    } else if (entry.pidfd >= 0) {
      const reaped = this.#libc.waitpid(entry.pid, this.#status, C.WNOHANG);
      if (reaped === 0) return; // not yet (cannot happen for a readable pidfd)
      this.#remove(entry.pidfd);
      this.#libc.close(entry.pidfd);
      entry.pidfd = -1;
      this.#finish(entry, reaped === entry.pid ? this.#status[0]! : reaped);
    }
  }

  /** Waits on a pool thread when the child has no pidfd. */
  async #waitBlocking(entry: Watched): Promise<void> {
    entry.pidfd = -1;
    const status = new Int32Array(1);
    let reaped = -1;
    for (let tries = 0; reaped === -1 && tries < 3; tries++) { // EINTR
      reaped = await this.#libc.waitpidBlocking(entry.pid, status, 0);
    }
    this.#finish(entry, reaped === entry.pid ? status[0]! : reaped);
    this.#libc.eventfd_write(this.#wake, 1n); // the loop may wait on nothing
  }

  /** Drains what the child left in the pipe, then resolves. */
  #finish(entry: Watched, status: number): void {
    if (entry.pipe >= 0) {
      let reads = 0;
      while (reads++ < MAX_DRAIN_READS && this.#readOnce(entry) === "more");
      this.#closePipe(entry);
    }
    this.#watched.delete(entry.id);
    const stderr = entry.tail.bytes();
    // `status` is -1 only when someone else reaped the child (waitpid ECHILD).
    entry.resolve(
      status === -1
        ? { kind: "lost", reason: "the process was reaped elsewhere", stderr }
        : { kind: "exited", status, stderr },
    );
  }

  /** Reads one chunk: maybe `more`, `empty` for now, or `closed` (EOF). */
  #readOnce(entry: Watched): "more" | "empty" | "closed" {
    const n = Number(this.#libc.read(entry.pipe, this.#scratch, READ_BYTES));
    if (n > 0) {
      entry.tail.push(this.#scratch.subarray(0, n));
      return "more";
    }
    if (n < 0 && lastErrno(this.#libc) === C.EAGAIN) return "empty";
    return "closed";
  }

  /** Ends every wait after an unexpected error, so no execution hangs. */
  #abandon(error: unknown): void {
    this.#waiting = false;
    for (const entry of [...this.#watched.values()]) {
      this.#watched.delete(entry.id);
      entry.resolve({
        kind: "lost",
        reason: `cannot wait for the process: ${error}`,
        stderr: entry.tail.bytes(),
      });
    }
  }

  #closePipe(entry: Watched): void {
    this.#remove(entry.pipe);
    this.#libc.close(entry.pipe);
    entry.pipe = -1;
  }

  #add(fd: number, token: number): boolean {
    const view = new DataView(this.#event.buffer);
    view.setUint32(0, C.EPOLLIN, true);
    view.setUint32(C.EPOLL_EVENT_BYTES - 8, token, true);
    view.setUint32(C.EPOLL_EVENT_BYTES - 4, 0, true);
    const { epoll_ctl } = this.#libc;
    return epoll_ctl(this.#epoll, C.EPOLL_CTL_ADD, fd, this.#event) === 0;
  }

  /**
   * Deregisters before `close`: a child being spawned right now holds a copy
   * of the fd until it execs, which would keep the registration alive.
   */
  #remove(fd: number): void {
    this.#libc.epoll_ctl(this.#epoll, C.EPOLL_CTL_DEL, fd, this.#event);
  }

  #error(call: string): Error {
    return new Error(`${call}: ${osError(this.#libc, lastErrno(this.#libc))}`);
  }
}

/** The last {@link STDERR_TAIL_BYTES} bytes written to it. */
export class Tail {
  #ring: Uint8Array | undefined;
  #end = 0;
  #total = 0;

  /** Appends a chunk (copied). */
  push(chunk: Uint8Array): void {
    const ring = this.#ring ??= new Uint8Array(STDERR_TAIL_BYTES);
    this.#total += chunk.length;
    if (chunk.length >= STDERR_TAIL_BYTES) {
      ring.set(chunk.subarray(chunk.length - STDERR_TAIL_BYTES));
      this.#end = 0;
      return;
    }
    const first = Math.min(chunk.length, STDERR_TAIL_BYTES - this.#end);
    ring.set(chunk.subarray(0, first), this.#end);
    ring.set(chunk.subarray(first), 0);
    this.#end = (this.#end + chunk.length) % STDERR_TAIL_BYTES;
  }

  /** The kept bytes, oldest first. */
  bytes(): Uint8Array {
    const ring = this.#ring;
    if (ring === undefined) return new Uint8Array(0);
    if (this.#total < STDERR_TAIL_BYTES) return ring.slice(0, this.#total);
    return concat([ring.subarray(this.#end), ring.subarray(0, this.#end)]);
  }
}
