import assert from "node:assert/strict";
import type { Mutation } from "../../../src/domain/mutation.ts";
import { LiveRecords } from "../../../src/persistence/live_records.ts";
import { formatRecord, parseRecord } from "../../../src/persistence/record.ts";

function live(lines: readonly string[]): string[] {
  const records = new LiveRecords();
  for (const line of lines) records.add(parseRecord(line)!);
  return [...records.take()].map(formatRecord);
}

Deno.test({
  name: "LiveRecords take() gives nothing when nothing was added",
  permissions: "none",
  fn() {
    assert.deepEqual([...new LiveRecords().take()], []);
  },
});

Deno.test({
  name:
    "LiveRecords take() keeps the last record of each job id, in the order of those last records",
  permissions: "none",
  fn() {
    assert.deepEqual(
      live([
        "SET a 1 planned",
        "SET b 2 planned",
        "SET a 1 triggered",
        "SET c 3 planned",
        "SET a 1 executed",
      ]),
      ["SET b 2 planned", "SET c 3 planned", "SET a 1 executed"],
    );
  },
});

Deno.test({
  name: "LiveRecords take() drops an id whose last record is a removal",
  permissions: "none",
  fn() {
    assert.deepEqual(
      live([
        "RULE SET r1 a. shell x",
        "SET a.1 1 planned",
        "SET a.2 1 planned",
        "RULE SET r2 b. shell y",
        "REMOVE a.1",
        "REMOVERULE r1",
        "REMOVE never.set",
        "REMOVERULE never.set",
      ]),
      ["SET a.2 1 planned", "RULE SET r2 b. shell y"],
    );
  },
});

Deno.test({
  name:
    "LiveRecords take() keeps an id set again after its removal, at its new place",
  permissions: "none",
  fn() {
    assert.deepEqual(
      live([
        "SET a 1 planned",
        "RULE SET r p shell x",
        "REMOVE a",
        "REMOVERULE r",
        "SET b 2 planned",
        "RULE SET r p shell y",
        "SET a 3 planned",
      ]),
      ["SET b 2 planned", "RULE SET r p shell y", "SET a 3 planned"],
    );
  },
});

Deno.test({
  name: "LiveRecords counts jobs and rules separately, even under the same id",
  permissions: "none",
  fn() {
    assert.deepEqual(
      live([
        "SET x 1 planned",
        "RULE SET x x shell true",
        "REMOVERULE x",
        "SET y 1 planned",
        "RULE SET y y shell true",
        "REMOVE y",
      ]),
      ["SET x 1 planned", "RULE SET y y shell true"],
    );
  },
});

Deno.test({
  name:
    "LiveRecords take() merges jobs and rules in file order of their last records",
  permissions: "none",
  fn() {
    assert.deepEqual(
      live([
        "RULE SET r1 p shell a",
        "SET j1 1 planned",
        "RULE SET r2 p shell b",
        "SET j2 1 planned",
        "RULE SET r1 p shell c",
        "SET j1 1 failed",
        "RULE SET r3 p shell d",
      ]),
      [
        "RULE SET r2 p shell b",
        "SET j2 1 planned",
        "RULE SET r1 p shell c",
        "SET j1 1 failed",
        "RULE SET r3 p shell d",
      ],
    );
  },
});

Deno.test({
  name: "LiveRecords take() yields the very records added",
  permissions: "none",
  fn() {
    const set: Mutation = {
      kind: "set",
      job: { id: "a", executionNs: 1n, status: "planned" },
    };
    const records = new LiveRecords();
    records.add(set);
    assert.equal([...records.take()][0], set);
  },
});
