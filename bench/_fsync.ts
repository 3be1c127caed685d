/**
 * The raw fsync rate of the disk holding the logfile: 100-byte appends,
 * each followed by fdatasync, back to back.
 *
 * @module
 */

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
