import assert from "node:assert/strict";
import { Tail } from "../../../src/runners/_spawn_exits.ts";

Deno.test({
  name: "Tail keeps the last 4096 bytes across chunk sizes",
  permissions: "none",
  fn() {
    const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => i % 251);
    for (const size of [1, 100, 4095, 4096, 5000]) {
      const tail = new Tail();
      for (let at = 0; at < bytes.length; at += size) {
        tail.push(bytes.subarray(at, at + size));
      }
      assert.deepEqual(tail.bytes(), bytes.subarray(bytes.length - 4096));
    }
    const short = new Tail();
    short.push(bytes.subarray(0, 10));
    assert.deepEqual(short.bytes(), bytes.subarray(0, 10));
    assert.deepEqual(new Tail().bytes(), new Uint8Array(0));
  },
});
