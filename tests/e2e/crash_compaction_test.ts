/** Crash safety during and right after a compaction: SIGKILL loses no acknowledged mutation (spec: persistence.md §6, §7); ZTICK_CRASH_SEED replays the random choices. */
import assert from "node:assert/strict";
import { exists, withTempDir } from "../_helpers/fs.ts";
import {
  assertSameJobs,
  derive,
  FAR_NS,
  flood,
  Lane,
  pick,
  pollFast,
  readJobs,
  restart,
  SEED,
  sleep,
  verifyLanes,
  writeConfig,
} from "./_crash.ts";

/**
 * Writes a logfile of `count` jobs in shuffled order, some superseded and
 * some removed, as a long-running daemon would leave it; returns its jobs.
 */
async function preload(
  path: string,
  count: number,
  random: () => number,
): Promise<Map<string, bigint>> {
  const ids = Array.from(
    { length: count },
    (_, i) => `load.${String(i).padStart(7, "0")}`,
  );
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  const jobs = new Map<string, bigint>();
  const lines: string[] = [];
  ids.forEach((id, i) => {
    jobs.set(id, FAR_NS + BigInt(i));
    lines.push(`SET ${id} ${FAR_NS + BigInt(i)} planned`);
    if (i % 10 === 9) {
      const other = ids[i - 5]!;
      if (random() < 0.5) {
        jobs.delete(other);
        lines.push(`REMOVE ${other}`);
      } else {
        jobs.set(other, FAR_NS - BigInt(i));
        lines.push(`SET ${other} ${FAR_NS - BigInt(i)} planned`);
      }
    }
  });
  lines.push("");
  await Deno.writeTextFile(path, lines.join("\n"), { mode: 0o600 });
  return jobs;
}

Deno.test(`SIGKILL during and right after a compaction loses no acknowledged mutation (seed ${SEED})`, async () => {
  await withTempDir("ztick-crash-", async (dir) => {
    const logfile = `${dir}/logfile`;
    const temp = `${logfile}.compact`;
    const loaded = await preload(logfile, 150_000, derive(2));
    // The first compaction starts one second after each start.
    const config = await writeConfig(dir, 1);
    const lanes = Array.from({ length: 4 }, (_, i) => new Lane(`c${i}.`, 300));
    const random = derive(2, 1);
    let daemon = await restart(config);
    let caught = 0;
    let ackedWhileCompacting = 0;
    let renamed = false;
    let attempts = 0;
    try {
      for (let attempt = 0;; attempt++) {
        attempts = attempt;
        // A leftover temp file is deleted before the daemon listens.
        assert.equal(await exists(temp), false, "leftover .compact survived");
        const jobs = await readJobs(daemon.port);
        assertSameJobs(pick(jobs, "load."), loaded, "preloaded jobs");
        verifyLanes(lanes, jobs, `attempt ${attempt}`);
        if (caught >= 3 && renamed) break;
        assert.ok(
          attempt < 10,
          `only ${caught} of ${attempt} kills landed during a compaction`,
        );
        lanes.forEach((lane, i) =>
          lane.startCycle(pick(jobs, lane.prefix), derive(2, attempt, i))
        );
        const floods = lanes.map((lane) => flood(lane, daemon.port));
        const acked = () => lanes.reduce((sum, lane) => sum + lane.acked, 0);
        let ackedAtStart = 0;
        if (caught < 3) {
          // The temp file exists from the start of a compaction to its rename.
          await pollFast(() => exists(temp), "a compaction to start");
          ackedAtStart = acked();
          await sleep(10 + Math.floor(random() * 100));
        } else {
          const { ino } = await Deno.stat(logfile);
          await pollFast(
            async () => (await Deno.stat(logfile)).ino !== ino,
            "a compaction to rename its file",
          );
        }
        await daemon.stop("SIGKILL");
        await Promise.all(floods);
        if (caught < 3) {
          // Still there after the kill: the rename had not happened yet.
          if (await exists(temp)) {
            caught++;
            ackedWhileCompacting += acked() - ackedAtStart;
          }
        } else {
          assert.equal(await exists(temp), false);
          renamed = true;
        }
        daemon = await restart(config);
      }
    } finally {
      await daemon.stop("SIGKILL");
    }
    assert.ok(ackedWhileCompacting > 0, "no SET acknowledged while compacting");
    // deno-lint-ignore no-console
    console.log(
      `crash_test: ${caught} kills during a compaction (${ackedWhileCompacting} ` +
        `mutations acknowledged meanwhile), 1 right after its rename, ` +
        `${attempts} attempts`,
    );
  });
});
