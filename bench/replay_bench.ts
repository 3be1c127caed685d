/**
 * Times the startup replay of a 1,000,000-line logfile of SET lines
 * (spec: persistence.md §6): `deno run --allow-read --allow-write
 * bench/replay_bench.ts [lines]`.
 *
 * @module
 */
import { replayLogfile } from "../src/persistence/replay.ts";

const LINES = Number(Deno.args[0] ?? 1_000_000);
const STATUSES = ["planned", "triggered", "executed", "failed"];

const dir = await Deno.makeTempDir({ prefix: "ztick_replay_bench_" });
try {
  const path = `${dir}/logfile`;
  const parts: string[] = [];
  for (let i = 0; i < LINES; i++) {
    parts.push(
      `SET app.component.${i % 1000}.job-${i} ${
        1775008800000000000n + BigInt(i) * 1_000_000_000n
      } ${STATUSES[i % 4]}\n`,
    );
  }
  await Deno.writeTextFile(path, parts.join(""));
  parts.length = 0;
  const { size } = await Deno.stat(path);
  for (let run = 1; run <= 3; run++) {
    const startMs = performance.now();
    const { mutations, warnings } = await replayLogfile(path);
    const ms = performance.now() - startMs;
    // deno-lint-ignore no-console
    console.log(
      `run ${run}: ${
        ms.toFixed(0)
      } ms, ${mutations.length} mutations, ${warnings.length} warnings, ${
        (size / 1e6).toFixed(1)
      } MB`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
