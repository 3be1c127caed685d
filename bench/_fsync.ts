/**
 * The raw fsync rate of the disk holding the logfile: 100-byte appends,
 * each followed by fdatasync, back to back — to a growing file, and into
 * blocks written with zeros beforehand (what the journal does with fsync
 * on: no size change, so no metadata commit per fsync).
 *
 * @module
 */
import type { Results } from "./_results.ts";

/**
 * Bytes written with zeros ahead in the preallocated variant: room for
 * 2 s at 20,000 fsyncs/s. A 16 MiB fill was measured to slow the fsyncs
 * that followed it (its writeback still under way on the host).
 */
const PREALLOCATED_BYTES = 4 << 20;

/**
 * Writes 100 bytes + `syncDataSync()` in a loop for `durationMs`; ops/s.
 * With `preallocated`, the file is first filled with zeros (and fsynced),
 * and the writes go over them from its start.
 */
export function rawFsyncRate(
  dir: string,
  durationMs: number,
  preallocated = false,
): number {
  const path = `${dir}/fsync_probe`;
  const file = Deno.openSync(path, {
    write: true,
    create: true,
    truncate: true,
    mode: 0o600,
  });
  try {
    if (preallocated) {
      file.writeSync(new Uint8Array(PREALLOCATED_BYTES));
      file.syncSync();
      file.seekSync(0, Deno.SeekMode.Start);
    }
    const bytes = new Uint8Array(100).fill(0x61);
    bytes[99] = 10;
    const limit = preallocated ? PREALLOCATED_BYTES / 100 : Infinity;
    const startMs = performance.now();
    const endMs = startMs + durationMs;
    let ops = 0;
    let nowMs = startMs;
    while (nowMs < endMs && ops < limit) {
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
  const over: number[] = [];
  for (let rep = 0; rep < options.reps; rep++) {
    // Alternated: the disk's rate drifts with the other tenants' load.
    rates.push(rawFsyncRate(options.workDir, options.durationMs));
    over.push(rawFsyncRate(options.workDir, options.durationMs, true));
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
  const p = results.add(
    "fsync.preallocated_rate",
    "Raw fsync rate: 100 bytes over preallocated zeros + fdatasync",
    "ops/s",
    over,
  );
  options.log(`  over preallocated zeros: ${Math.round(p.median)} fsyncs/s`);
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
