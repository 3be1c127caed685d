/**
 * A binary min-heap ordered by `before`; the due heap of the scheduler and
 * the run merge of compaction share it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BinaryHeap } from "./heap.ts";
 *
 * const heap = new BinaryHeap<number>((a, b) => a < b);
 * for (const n of [5, 1, 4, 2]) heap.push(n);
 * assert.equal(heap.pop(), 1);
 * assert.equal(heap.peek(), 2);
 * assert.equal(heap.size, 3);
 * ```
 */
export class BinaryHeap<T> {
  #items: T[] = [];
  readonly #before: (a: T, b: T) => boolean;

  /** `before(a, b)` tells whether `a` comes out before `b`. */
  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  /** Number of items. */
  get size(): number {
    return this.#items.length;
  }

  /** Returns the first item without removing it. */
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
      if (!this.#before(item, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  /** Removes and returns the first item. */
  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) this.#siftDown(last, 0);
    return top;
  }

  /** Restores the order after the first item's key changed in place. */
  updateTop(): void {
    const top = this.#items[0];
    if (top !== undefined) this.#siftDown(top, 0);
  }

  /** Keeps only the items `keep` accepts, in O(n). */
  filter(keep: (item: T) => boolean): void {
    this.#items = this.#items.filter(keep);
    for (let i = (this.#items.length >> 1) - 1; i >= 0; i--) {
      this.#siftDown(this.#items[i]!, i);
    }
  }

  #siftDown(item: T, start: number): void {
    const items = this.#items;
    const n = items.length;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.#before(items[child + 1]!, items[child]!)) {
        child++;
      }
      if (!this.#before(items[child]!, item)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = item;
  }
}
