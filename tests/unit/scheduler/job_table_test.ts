import assert from "node:assert/strict";
import { hashId, JobTable } from "../../../src/scheduler/job_table.ts";

interface Item {
  readonly id: string;
  readonly n: number;
}

/** Every id in one bucket: collisions on every operation. */
const SAME_HASH = () => 7;

for (
  const [name, hash] of [["hashId", hashId], ["one bucket", SAME_HASH]] as const
) {
  Deno.test(`JobTable (${name}) sets, replaces, gets and deletes like a Map`, () => {
    const table = new JobTable<Item>(hash);
    const model = new Map<string, Item>();
    // A seeded walk of sets and deletes over a few ids, checked against a Map.
    let seed = 12345;
    const random = (n: number) =>
      (seed = (seed * 1103515245 + 12345) >>> 0) % n;
    for (let step = 0; step < 5000; step++) {
      const id = `job.${random(40)}`;
      if (random(3) === 0) {
        const expected = model.get(id);
        model.delete(id);
        assert.equal(table.delete(id), expected);
      } else {
        const item = { id, n: step };
        assert.equal(table.set(item), model.get(id));
        model.set(id, item);
      }
      assert.equal(table.size, model.size);
      assert.equal(table.get(id), model.get(id));
    }
    const byId = (a: Item, b: Item) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    assert.deepEqual(
      [...table.values()].sort(byId),
      [...model.values()].sort(byId),
    );
    assert.equal(table.get("missing"), undefined);
    assert.equal(table.delete("missing"), undefined);
  });
}

Deno.test("JobTable values() survives deletes while it iterates", () => {
  const table = new JobTable<Item>(SAME_HASH);
  for (let n = 0; n < 5; n++) table.set({ id: `j${n}`, n });
  const seen: string[] = [];
  for (const item of table.values()) {
    seen.push(item.id);
    table.delete("j4");
  }
  assert.deepEqual(seen.sort(), ["j0", "j1", "j2", "j3", "j4"]);
  assert.equal(table.size, 4);
});

Deno.test("hashId() gives small integers that differ for near ids", () => {
  const hashes = new Set<number>();
  for (let i = 0; i < 10_000; i++) {
    const hash = hashId(`backup.${i}`);
    assert.ok(Number.isInteger(hash) && hash >= 0 && hash < 2 ** 30);
    hashes.add(hash);
  }
  assert.ok(hashes.size > 9_990, `${hashes.size} distinct hashes of 10,000`);
});
