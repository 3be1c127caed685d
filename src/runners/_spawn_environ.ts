/**
 * The daemon's environment as libc holds it (`environ`), read without
 * `--allow-env`: the child's `envp` reuses the parent's string pointers and
 * adds the job's variables in front.
 *
 * @module
 */
import { cStringAt, type Libc } from "./_spawn_libc.ts";

/** Variables the runner sets; the daemon's own values are dropped. */
const JOB_VARIABLES = [
  "ZTICK_JOB_ID=",
  "ZTICK_JOB_EXECUTION=",
  "ZTICK_RULE_ID=",
] as const;
/** Longest prefix to read from an entry to recognise a job variable. */
const PREFIX_BYTES = Math.max(...JOB_VARIABLES.map((v) => v.length));
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PREFIXES = JOB_VARIABLES.map((v) => encoder.encode(v));
const PATH_PREFIX = encoder.encode("PATH=");

/** A copy of `environ`'s pointer array, rebuilt when libc's changes. */
interface Snapshot {
  /** The value of `environ` (address of the `char *[]`). */
  readonly array: bigint;
  /** Every entry plus the terminating null, as read. */
  readonly entries: BigUint64Array;
  /** The entries the child inherits. */
  readonly kept: readonly bigint[];
  /** The address of `PATH=…`, if set. */
  readonly path: bigint | undefined;
}

/** Reads and caches the process environment through libc. */
export class Environ {
  readonly #libc: Libc;
  readonly #cell = new BigUint64Array(1);
  #snapshot: Snapshot | undefined;

  constructor(libc: Libc) {
    this.#libc = libc;
  }

  /**
   * The entries a child inherits (addresses of `NAME=value` strings), minus
   * the job variables. Costs two memory copies when nothing changed.
   */
  inherited(): readonly bigint[] {
    return this.#current().kept;
  }

  /** The directories of the daemon's `PATH` (empty when unset). */
  pathDirectories(): string[] {
    const { path } = this.#current();
    if (path === undefined) return [];
    const text = decoder.decode(cStringAt(this.#libc, path));
    return text.slice("PATH=".length).split(":");
  }

  #current(): Snapshot {
    const libc = this.#libc;
    libc.copyFromPtr(this.#cell, libc.environ, 8n);
    const array = this.#cell[0]!;
    const cached = this.#snapshot;
    if (cached !== undefined && cached.array === array && array !== 0n) {
      const now = new BigUint64Array(cached.entries.length);
      libc.copyFromAt(now, array, BigInt(now.byteLength));
      if (now.every((entry, i) => entry === cached.entries[i])) return cached;
    }
    return this.#snapshot = this.#read(array);
  }

  #read(array: bigint): Snapshot {
    const libc = this.#libc;
    const all: bigint[] = [];
    if (array !== 0n) {
      for (let at = array;; at += 8n) {
        libc.copyFromAt(this.#cell, at, 8n);
        const entry = this.#cell[0]!;
        all.push(entry);
        if (entry === 0n) break;
      }
    }
    const kept: bigint[] = [];
    let path: bigint | undefined;
    const head = new Uint8Array(PREFIX_BYTES);
    for (const entry of all) {
      if (entry === 0n) continue;
      const length = Math.min(Number(libc.strlenAt(entry)), PREFIX_BYTES);
      head.fill(0);
      libc.copyFromAt(head, entry, BigInt(length));
      if (PREFIXES.some((prefix) => startsWith(head, prefix))) continue;
      if (startsWith(head, PATH_PREFIX)) path = entry;
      kept.push(entry);
    }
    return { array, entries: BigUint64Array.from(all), kept, path };
  }
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[i] !== prefix[i]) return false;
  }
  return true;
}
