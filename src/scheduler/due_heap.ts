/** What the heap orders: by time, then by the order SETs were applied. */
export interface HeapItem {
  readonly executionNs: bigint;
  readonly seq: number;
}

/**
 * A binary min-heap of due times; ties go to the smaller `seq`
 * (spec: protocol.md §7, "ties in the order their SETs were applied").
 */
export class DueHeap<T extends HeapItem> {
  #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** Returns the earliest item without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds an item. */
  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!isBefore(item, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  /** Removes and returns the earliest item. */
  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) this.#siftDown(last);
    return top;
  }

  /** Keeps only the items `keep` accepts, in O(n). */
  filter(keep: (item: T) => boolean): void {
    this.#items = this.#items.filter(keep);
    for (let i = (this.#items.length >> 1) - 1; i >= 0; i--) {
      this.#siftDown(this.#items[i]!, i);
    }
  }

  #siftDown(item: T, start = 0): void {
    const items = this.#items;
    const n = items.length;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && isBefore(items[child + 1]!, items[child]!)) child++;
      if (!isBefore(items[child]!, item)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = item;
  }
}

function isBefore(a: HeapItem, b: HeapItem): boolean {
  return a.executionNs < b.executionNs ||
    (a.executionNs === b.executionNs && a.seq < b.seq);
}
