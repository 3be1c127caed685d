/**
 * Crash safety of the zero-filled extents the logfile grows in with fsync
 * on: SIGKILL while clients flood SETs, with the file's zero tail in place
 * and extents being added, loses no acknowledged SET and leaves no garbage
 * (no NUL inside the records, no corrupt line); a restart writes on right
 * after the records, and a graceful stop cuts the zero tail off
 * (spec: persistence.md §5, §6).
 */
import assert from "node:assert/strict";
import { converse, TestClient } from "../_helpers/client.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";
import { withTempDir } from "../_helpers/fs.ts";

/** 2100-01-01T00:00:00Z: no job of this test ever falls due. */
const FAR_NS = 4_102_444_800_000_000_000n;
const BATCH = 16;
/** Long ids fill an extent (1 MiB) in a few thousand records. */
const PAD = "x".repeat(200);

function isGone(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionRefused ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.NotConnected;
}

/**
 * Sends batches of SETs of fresh ids until the daemon dies; every SET
 * answered OK goes to `acked`, every one sent to `sent`.
 */
async function flood(
  lane: string,
  port: number,
  acked: Map<string, bigint>,
  sent: Map<string, bigint>,
): Promise<void> {
  let client: TestClient;
  try {
    client = await TestClient.connect(port);
  } catch (error) {
    if (isGone(error)) return;
    throw error;
  }
  try {
    for (let n = 0;;) {
      const batch: [string, bigint][] = [];
      let text = "";
      for (let i = 0; i < BATCH; i++, n++) {
        const id = `${lane}.${n}.${PAD}`;
        const ns = FAR_NS + BigInt(n);
        batch.push([id, ns]);
        sent.set(id, ns);
        text += `r${n} SET ${id} ${ns}\n`;
      }
      await client.send(text);
      for (const [id, ns] of batch) {
        const line = await client.readLine();
        if (line === undefined) return;
        assert.match(line, /^r\d+ OK$/);
        acked.set(id, ns);
      }
    }
  } catch (error) {
    if (!isGone(error)) throw error;
  } finally {
    client[Symbol.dispose]();
  }
}

async function readJobs(port: number): Promise<Map<string, bigint>> {
  const lines = (await converse(port, "q QUERY\n")).split("\n");
  assert.equal(lines.pop(), "");
  assert.equal(lines.pop(), "q OK");
  const jobs = new Map<string, bigint>();
  for (const line of lines) {
    const [, id, status, ns] = line.split(" ");
    assert.equal(status, "planned", line.slice(0, 80));
    jobs.set(id!, BigInt(ns!));
  }
  return jobs;
}

/** The logfile's records and the length of its zero tail. */
async function inspect(
  path: string,
): Promise<{ records: Uint8Array; zeros: number }> {
  const bytes = await Deno.readFile(path);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return { records: bytes.subarray(0, end), zeros: bytes.length - end };
}

async function writeConfig(dir: string): Promise<string> {
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(
    path,
    `[controller]\nlisten = "127.0.0.1:0"\n` +
      `[database]\nlogfile_path = "${dir}/logfile"\n` +
      `fsync_on_persist = true\ncompression_interval = 0\n`,
  );
  return path;
}

Deno.test("SIGKILL with a preallocated zero tail loses no acknowledged SET and leaves no garbage", async () => {
  const cycles = 5;
  await withTempDir("ztick-crash-prealloc-", async (dir) => {
    const config = await writeConfig(dir);
    const logfile = `${dir}/logfile`;
    const expected = new Map<string, bigint>();
    let daemon = await DaemonProcess.start(config);
    let lengths = 0;
    try {
      for (let cycle = 0; cycle < cycles; cycle++) {
        const acked = new Map<string, bigint>();
        const sent = new Map<string, bigint>();
        const floods = [0, 1, 2, 3].map((i) =>
          flood(`k${cycle}.${i}`, daemon.port, acked, sent)
        );
        // Long enough for extents to be added while the floods run.
        await new Promise((r) => setTimeout(r, 400 + cycle * 300));
        await daemon.stop("SIGKILL");
        await Promise.all(floods);
        const { records, zeros } = await inspect(logfile);
        assert.ok(zeros > 0, `cycle ${cycle}: no zero tail after the kill`);
        assert.equal(records.indexOf(0), -1, "a NUL inside the records");
        lengths += records.length;

        daemon = await DaemonProcess.start(config);
        assert.doesNotMatch(
          daemon.log,
          /skipped/,
          "a corrupt line after a crash",
        );
        const jobs = await readJobs(daemon.port);
        for (const [id, ns] of acked) expected.set(id, ns);
        for (const [id, ns] of expected) {
          assert.equal(
            jobs.get(id),
            ns,
            `acknowledged ${id.slice(0, 20)} lost`,
          );
        }
        for (const [id, ns] of jobs) {
          // Unanswered SETs may be kept, never anything else.
          assert.equal(ns, expected.get(id) ?? sent.get(id), "garbage job");
          expected.set(id, ns);
        }
        assert.ok(acked.size > 0, `cycle ${cycle}: nothing acknowledged`);
      }
    } finally {
      assert.equal(await daemon.stop("SIGTERM"), 0);
    }
    const { records, zeros } = await inspect(logfile);
    assert.equal(zeros, 0, "the graceful stop cuts the zero tail off");
    const text = new TextDecoder().decode(records);
    assert.equal(text.split("\n").length - 1, expected.size);
    assert.ok(
      lengths > 1 << 20,
      `only ${lengths} bytes written: no extent added`,
    );
  });
});
