import assert from "node:assert/strict";
import { BufferPool, ReadBuffer } from "../../../src/server/_read_buffers.ts";

Deno.test({
  name:
    "ReadBuffer.next() reads small until a read fills it, then borrows a large buffer and gives it back when reads are small again",
  permissions: "none",
  fn() {
    const pool = new BufferPool(1);
    const reads = new ReadBuffer(pool);
    const small = reads.next();
    assert.equal(small.length, 2048);
    assert.equal(reads.next({ buffer: small, bytes: 100 }), small);
    const large = reads.next({ buffer: small, bytes: small.length });
    assert.equal(large.length, 65536);
    assert.equal(reads.next({ buffer: large, bytes: large.length }), large);
    assert.equal(reads.next({ buffer: large, bytes: 5000 }), large);
    assert.equal(reads.next({ buffer: large, bytes: 10 }), small);
    // Given back: another connection gets the same large buffer.
    const other = new ReadBuffer(pool);
    const first = other.next();
    assert.equal(other.next({ buffer: first, bytes: first.length }), large);
  },
});

Deno.test({
  name:
    "BufferPool.take() lends at most its size; a busy connection then keeps reading small",
  permissions: "none",
  fn() {
    const pool = new BufferPool(2);
    const a = pool.take();
    const b = pool.take();
    assert.ok(a && b && a !== b);
    assert.equal(pool.take(), undefined);
    const reads = new ReadBuffer(pool);
    const small = reads.next();
    assert.equal(reads.next({ buffer: small, bytes: small.length }), small);
    pool.give(a);
    assert.equal(reads.next({ buffer: small, bytes: small.length }), a);
    reads.release();
    assert.equal(pool.take(), a);
  },
});
