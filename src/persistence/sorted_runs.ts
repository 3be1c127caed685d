/**
 * Writing a large collection as lines sorted by id without stalling the
 * event loop: sorted runs, merged through the shared binary heap.
 *
 * @module
 */
import { compareBytes } from "../domain/rule.ts";
import { BinaryHeap } from "../heap.ts";
import type { ChunkWriter } from "./files.ts";

/** Items sorted in one go; sorting 10k ids takes a few milliseconds. */
const RUN_LENGTH = 10_000;
/** The event loop is given back after at most about this long. */
const SLICE_MS = 5;
/** Pieces of a UTF-16 string that are not in UTF-8 byte order. */
const SURROGATE = /[\uD800-\uDFFF]/;

/** An item with the id it is sorted by. */
export interface Entry {
  readonly id: string;
}

/** A sorted run of entries; `wide` runs need the slow byte-order compare. */
interface Run<T extends Entry> {
  readonly entries: T[];
  readonly wide: boolean;
  /** Rank in taking order: breaks ties between equal ids. */
  readonly rank: number;
  position: number;
}

/** Tells when to give the event loop back, and does it. */
export class Pace {
  #sinceMs = performance.now();

  /** Tells whether the current slice is used up. */
  isDue(): boolean {
    return performance.now() - this.#sinceMs >= SLICE_MS;
  }

  /** Lets the event loop run, then starts a new slice. */
  async yield(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.#sinceMs = performance.now();
  }
}

/**
 * Writes items as lines sorted by id in byte order, yielding to the event
 * loop often: runs of `RUN_LENGTH` items are taken and sorted one by one,
 * then merged. An item is written as it is when its line is written. An id
 * met twice (deleted and re-added during the walk) keeps its later version.
 * `check` is called after each yield and may throw to stop. Returns the
 * number of lines written.
 */
export async function writeSorted<T extends Entry>(
  items: Iterable<T>,
  line: (item: T) => string,
  writer: ChunkWriter,
  check: () => void,
): Promise<number> {
  const pace = new Pace();
  const runs = await takeRuns(items, pace, check);
  const heap = new BinaryHeap<Run<T>>(isRunBefore);
  for (const run of runs) heap.push(run);
  let previous: T | undefined;
  let count = 0;
  for (let entry = next(heap); entry !== undefined; entry = next(heap)) {
    if (previous !== undefined && previous.id !== entry.id) {
      writer.add(line(previous));
      count++;
      if (writer.isFull) {
        await writer.flush();
        check();
      }
      if ((count & 255) === 0 && pace.isDue()) {
        await pace.yield();
        check();
      }
    }
    previous = entry;
  }
  if (previous !== undefined) {
    writer.add(line(previous));
    count++;
  }
  return count;
}

/** Takes the items in sorted runs of `RUN_LENGTH`, yielding between runs. */
async function takeRuns<T extends Entry>(
  items: Iterable<T>,
  pace: Pace,
  check: () => void,
): Promise<Run<T>[]> {
  const runs: Run<T>[] = [];
  const iterator = items[Symbol.iterator]();
  for (let done = false; !done;) {
    const entries: T[] = [];
    let wide = false;
    while (entries.length < RUN_LENGTH) {
      const next = iterator.next();
      if (next.done) {
        done = true;
        break;
      }
      if (!wide && SURROGATE.test(next.value.id)) wide = true;
      entries.push(next.value);
    }
    if (entries.length === 0) break;
    // Array sort is stable: equal ids stay in the order they were taken.
    entries.sort((a, b) => compareIds(a.id, b.id, wide));
    runs.push({ entries, wide, rank: runs.length, position: 0 });
    await pace.yield();
    check();
  }
  return runs;
}

/** Takes the smallest entry of the merge. */
function next<T extends Entry>(heap: BinaryHeap<Run<T>>): T | undefined {
  const top = heap.peek();
  if (top === undefined) return undefined;
  const entry = top.entries[top.position++]!;
  if (top.position < top.entries.length) heap.updateTop();
  else heap.pop();
  return entry;
}

/** Runs by their current entry; ties favour earlier runs. */
function isRunBefore<T extends Entry>(a: Run<T>, b: Run<T>): boolean {
  const c = compareIds(
    a.entries[a.position]!.id,
    b.entries[b.position]!.id,
    a.wide || b.wide,
  );
  return c < 0 || (c === 0 && a.rank < b.rank);
}

function compareIds(a: string, b: string, wide: boolean): number {
  if (wide) return compareBytes(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}
