import assert from "node:assert/strict";
import { Compactions } from "../../../src/persistence/compaction.ts";
import { MetricsRegistry } from "../../../src/telemetry/registry.ts";

Deno.test("Compactions counts finished compactions in compactions_total{outcome}, both at zero first", async () => {
  const registry = new MetricsRegistry();
  const compactions = new Compactions(0, () => {}, registry);
  const count = (outcome: string) =>
    registry.counterValue("compactions_total", { outcome });
  assert.deepEqual(
    registry.counterSeries("compactions_total").map((s) => s.labels.outcome),
    ["success", "failure"],
  );
  await compactions.run(
    () => Promise.resolve({ rules: 1, jobs: 2, runs: 0, bytes: 3 }),
    () => false,
  );
  assert.equal(compactions.state, "success");
  await compactions.run(
    () => Promise.reject(new Error("no space")),
    () => false,
  );
  assert.equal(compactions.state, "failure");
  await compactions.run(
    () => Promise.resolve({ rules: 0, jobs: 0, runs: 0, bytes: 0 }),
    () => false,
  );
  assert.equal(count("success"), 2);
  assert.equal(count("failure"), 1);
});
