import assert from "node:assert/strict";
import { BinaryHeap } from "../../src/heap.ts";
import { mulberry32 } from "../_helpers/random.ts";

const ascending = (a: number, b: number) => a < b;

/** Pops everything. */
function drain<T>(heap: BinaryHeap<T>): T[] {
  const out: T[] = [];
  while (heap.size > 0) out.push(heap.pop()!);
  return out;
}

Deno.test({
  name: "BinaryHeap peek() and pop() give undefined when empty",
  permissions: "none",
  fn() {
    const heap = new BinaryHeap(ascending);
    assert.equal(heap.size, 0);
    assert.equal(heap.peek(), undefined);
    assert.equal(heap.pop(), undefined);
    heap.updateTop(); // harmless when empty
    heap.push(1);
    assert.equal(heap.pop(), 1);
    assert.equal(heap.pop(), undefined);
    assert.equal(heap.size, 0);
  },
});

Deno.test({
  name:
    "BinaryHeap pops random numbers in ascending order, duplicates included",
  permissions: "none",
  fn() {
    const next = mulberry32(1);
    for (const count of [1, 2, 3, 10, 100, 1000]) {
      const heap = new BinaryHeap(ascending);
      const values = Array.from(
        { length: count },
        () => Math.floor(next() * count),
      );
      for (const value of values) heap.push(value);
      assert.equal(heap.size, count);
      assert.equal(heap.peek(), Math.min(...values));
      assert.deepEqual(drain(heap), [...values].sort((a, b) => a - b));
    }
  },
});

Deno.test({
  name: "BinaryHeap agrees with a sorted list under random pushes and pops",
  permissions: "none",
  fn() {
    const next = mulberry32(2);
    const heap = new BinaryHeap(ascending);
    const model: number[] = [];
    for (let i = 0; i < 5000; i++) {
      if (next() < 0.6) {
        const value = Math.floor(next() * 500);
        heap.push(value);
        model.push(value);
        model.sort((a, b) => a - b);
      } else {
        assert.equal(heap.pop(), model.shift());
      }
      assert.equal(heap.size, model.length);
      assert.equal(heap.peek(), model[0]);
    }
  },
});

Deno.test({
  name: "BinaryHeap follows its before() order, whatever it is",
  permissions: "none",
  fn() {
    const heap = new BinaryHeap<{ key: string; seq: number }>((a, b) =>
      a.key > b.key || (a.key === b.key && a.seq < b.seq)
    );
    const items = ["b", "a", "c", "a", "b"].map((key, seq) => ({ key, seq }));
    for (const item of items) heap.push(item);
    assert.deepEqual(drain(heap).map((i) => `${i.key}${i.seq}`), [
      "c2",
      "b0",
      "b4",
      "a1",
      "a3",
    ]);
  },
});

Deno.test({
  name: "BinaryHeap filter() keeps the accepted items in heap order",
  permissions: "none",
  fn() {
    const next = mulberry32(3);
    const heap = new BinaryHeap(ascending);
    const values = Array.from({ length: 1000 }, () => Math.floor(next() * 1e6));
    for (const value of values) heap.push(value);
    heap.filter((value) => value % 3 !== 0);
    const kept = values.filter((value) => value % 3 !== 0);
    assert.equal(heap.size, kept.length);
    heap.push(-1);
    assert.deepEqual(drain(heap), [-1, ...kept.sort((a, b) => a - b)]);
    heap.push(5);
    heap.filter(() => false);
    assert.equal(heap.size, 0);
    assert.equal(heap.peek(), undefined);
  },
});

Deno.test({
  name: "BinaryHeap updateTop() restores the order after the top's key grew",
  permissions: "none",
  fn() {
    const next = mulberry32(4);
    const heap = new BinaryHeap<{ key: number }>((a, b) => a.key < b.key);
    const items = Array.from({ length: 200 }, () => ({
      key: Math.floor(next() * 1000),
    }));
    for (const item of items) heap.push(item);
    for (let i = 0; i < 500; i++) {
      heap.peek()!.key += Math.floor(next() * 300);
      heap.updateTop();
    }
    const keys = drain(heap).map((item) => item.key);
    assert.deepEqual(keys, [...keys].sort((a, b) => a - b));
    assert.deepEqual(
      [...keys].sort((a, b) => a - b),
      items.map((item) => item.key).sort((a, b) => a - b),
    );
  },
});
