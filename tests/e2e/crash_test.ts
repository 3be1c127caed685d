/**
 * Crash safety through the real daemon process: SIGKILL while clients flood
 * mutations loses no acknowledged mutation (spec: persistence.md §5, §6, §7;
 * during a compaction: crash_compaction_test.ts).
 *
 * The random choices come from one seed, printed at the start; set
 * `ZTICK_CRASH_SEED=<seed>` to replay them (timing still varies).
 */
import assert from "node:assert/strict";
import { withTempDir } from "../_helpers/fs.ts";
import {
  derive,
  flood,
  Lane,
  pick,
  readJobs,
  restart,
  SEED,
  sleep,
  verifyLanes,
  writeConfig,
} from "./_crash.ts";

Deno.test(`SIGKILL during a flood of SETs and REMOVEs loses no acknowledged mutation (seed ${SEED})`, async () => {
  const cycles = 20;
  await withTempDir("ztick-crash-", async (dir) => {
    const config = await writeConfig(dir, 0);
    const lanes = Array.from({ length: 6 }, (_, i) => new Lane(`c${i}.`, 300));
    const random = derive(1);
    let daemon = await restart(config);
    let acked = 0;
    let kept = 0;
    let jobs = new Map<string, bigint>();
    try {
      for (let cycle = 0; cycle < cycles; cycle++) {
        lanes.forEach((lane, i) =>
          lane.startCycle(pick(jobs, lane.prefix), derive(1, cycle, i))
        );
        const floods = lanes.map((lane) => flood(lane, daemon.port));
        // The random moment of the kill is the point of this test.
        await sleep(10 + Math.floor(random() * 390));
        await daemon.stop("SIGKILL");
        await Promise.all(floods);
        daemon = await restart(config);
        jobs = await readJobs(daemon.port);
        const strays = [...jobs.keys()].filter((id) => !/^c\d\./.test(id));
        assert.deepEqual(strays, [], "jobs outside every lane");
        kept += verifyLanes(lanes, jobs, `cycle ${cycle}`);
        acked += lanes.reduce((sum, lane) => sum + lane.acked, 0);
      }
    } finally {
      await daemon.stop("SIGKILL");
    }
    // Enough acknowledged writes that the kills hit a busy daemon.
    assert.ok(acked > cycles * 50, `only ${acked} mutations acknowledged`);
    // deno-lint-ignore no-console
    console.log(
      `crash_test: ${cycles} kills, ${acked} acknowledged mutations checked, ` +
        `${kept} unanswered ones found applied`,
    );
  });
});
