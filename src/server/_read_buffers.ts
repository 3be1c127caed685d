/**
 * Read buffers sized to need: an idle connection waits with a small buffer
 * of its own; one whose reads fill it borrows a large one from a pool with
 * a fixed size, so neither idle connections nor busy ones can take memory
 * without bound.
 */

/** What a connection reads into while its reads are small. */
const SMALL_BYTES = 2048;
/** What a busy connection reads into: one write per read chunk (deno-notes). */
const LARGE_BYTES = 64 * 1024;
/** Large buffers lent at most at once (16 MiB). */
const POOL_SIZE = 256;

/** The shared large buffers. */
export class BufferPool {
  readonly #free: Uint8Array[] = [];
  readonly #size: number;
  #lent = 0;

  constructor(size = POOL_SIZE) {
    this.#size = size;
  }

  /** Lends a large buffer, or `undefined` when all are lent. */
  take(): Uint8Array | undefined {
    if (this.#lent >= this.#size) return undefined;
    this.#lent++;
    return this.#free.pop() ?? new Uint8Array(LARGE_BYTES);
  }

  /** Takes a lent buffer back. */
  give(buffer: Uint8Array): void {
    this.#lent--;
    this.#free.push(buffer);
  }
}

/** The process-wide pool of protocol connections. */
export const READ_POOL = new BufferPool();

/**
 * One connection's read buffer: the next read goes into a large buffer when
 * the last one filled its buffer, else into the connection's small one.
 */
export class ReadBuffer {
  readonly #pool: BufferPool;
  readonly #small = new Uint8Array(SMALL_BYTES);
  #large: Uint8Array | undefined;

  constructor(pool: BufferPool = READ_POOL) {
    this.#pool = pool;
  }

  /**
   * The buffer for the next read, given how many bytes the last read
   * brought into `last` (the buffer it got from here; nothing of it may
   * still be in use).
   */
  next(last?: { buffer: Uint8Array; bytes: number }): Uint8Array {
    const full = last !== undefined && last.bytes === last.buffer.length;
    if (full && this.#large === undefined) this.#large = this.#pool.take();
    if (!full && last !== undefined && last.bytes <= SMALL_BYTES / 2) {
      this.release();
    }
    return this.#large ?? this.#small;
  }

  /** Gives a borrowed buffer back to the pool. */
  release(): void {
    if (this.#large === undefined) return;
    this.#pool.give(this.#large);
    this.#large = undefined;
  }
}
