/**
 * The raw fsync rate of the disk holding the logfile: 100-byte appends,
 * each followed by fdatasync, back to back.
 *
 * @module
 */
import type { Results } from "./_results.ts";

/** Appends 100 bytes + `syncDataSync()` in a loop for `durationMs`; ops/s. */
export function rawFsyncRate(dir: string, durationMs: number): number {
  const path = `${dir}/fsync_probe`;
  const file = Deno.openSync(path, {
    append: true,
    create: true,
    mode: 0o600,
  });
  try {
    const bytes = new Uint8Array(100).fill(0x61);
    bytes[99] = 10;
    const startMs = performance.now();
    const endMs = startMs + durationMs;
    let ops = 0;
    let nowMs = startMs;
    while (nowMs < endMs) {
      file.writeSync(bytes);
      file.syncDataSync();
      ops++;
      nowMs = performance.now();
    }
    return ops / ((nowMs - startMs) / 1000);
  } finally {
    file.close();
    Deno.removeSync(path);
  }
}

export interface FsyncOptions {
  readonly reps: number;
  readonly durationMs: number;
  readonly workDir: string;
  log(text: string): void;
}

/**
 * The `fsync` scenario: figure `fsync.rate`, and `group_commit.<server>`
 * (durable 50-connection SET rate over the raw fsync rate) for the servers
 * the `set` scenario measured in the same run.
 */
export function measureFsync(results: Results, options: FsyncOptions): void {
  const rates: number[] = [];
  for (let rep = 0; rep < options.reps; rep++) {
    rates.push(rawFsyncRate(options.workDir, options.durationMs));
  }
  const f = results.add(
    "fsync.rate",
    "Raw fsync rate: 100-byte append + fdatasync, back to back",
    "ops/s",
    rates,
  );
  options.log(
    `  ${Math.round(f.median)} fsyncs/s [${Math.round(f.min)}–${
      Math.round(f.max)
    }]`,
  );
  const servers = [["ztick_fsync_on", "ztick"], [
    "redis_always",
    "Redis always",
  ]];
  for (const [id, label] of servers) {
    const rr50 = results.get(`${id}.rr50.rps`);
    if (!rr50) continue;
    results.add(
      `group_commit.${id}`,
      `Group commit: ${label} durable 50-conn SET rate / raw fsync rate`,
      "×",
      rr50.samples.map((s) => s / f.median),
    );
  }
}
