/**
 * The zero-filled extents a logfile grows in with fsync on: the journal
 * writes its records into them, replay and dump take the zero tail as the
 * end of the records, and a graceful close cuts it off.
 */
import assert from "node:assert/strict";
import { runDump } from "../../../src/dump.ts";
import { LogfileJournal } from "../../../src/persistence/logfile_journal.ts";
import { replayLogfile } from "../../../src/persistence/replay.ts";
import { EXTENT_BYTES } from "../../../src/persistence/_zero_tail.ts";
import { probeMount, unmount, withTempDir } from "../../_helpers/fs.ts";

const ENCODER = new TextEncoder();
const snapshot = () => ({ rules: [], jobs: [] });

function open(path: string, fsync = true): Promise<LogfileJournal> {
  return LogfileJournal.open(path, { fsync, compactionIntervalS: 0, snapshot });
}

function remove(jobId: string) {
  return { kind: "remove", jobId } as const;
}

/** The file's bytes: its text up to the zero tail, and the tail's length. */
async function split(path: string): Promise<{ text: string; zeros: number }> {
  const bytes = await Deno.readFile(path);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return {
    text: new TextDecoder().decode(bytes.subarray(0, end)),
    zeros: bytes.length - end,
  };
}

async function writeWithZeros(path: string, text: string, zeros: number) {
  const bytes = ENCODER.encode(text);
  const file = new Uint8Array(bytes.length + zeros);
  file.set(bytes);
  await Deno.writeFile(path, file, { mode: 0o600 });
}

Deno.test("LogfileJournal with fsync grows in zero-filled extents and keeps its length while records fit", async () => {
  await withTempDir("ztick_prealloc_", async (dir) => {
    const path = `${dir}/logfile`;
    const journal = await open(path);
    await journal.append(remove("a"));
    const first = await split(path);
    assert.equal(first.text, "REMOVE a\n");
    assert.ok(first.zeros >= EXTENT_BYTES, `zero tail ${first.zeros}`);
    const length = (await Deno.stat(path)).size;
    for (let i = 0; i < 100; i++) await journal.append(remove(`b.${i}`));
    assert.equal((await Deno.stat(path)).size, length, "no growth per group");
    await journal.close();
    const closed = await Deno.readTextFile(path);
    assert.ok(closed.startsWith("REMOVE a\nREMOVE b.0\n"));
    assert.ok(closed.endsWith("REMOVE b.99\n"), "the close cuts the zeros off");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  });
});

Deno.test("LogfileJournal adds the next extent when a group does not fit", async () => {
  await withTempDir("ztick_prealloc_", async (dir) => {
    const path = `${dir}/logfile`;
    const journal = await open(path);
    const id = "x".repeat(EXTENT_BYTES / 2);
    await journal.append(remove(id));
    await journal.append(remove(id));
    await journal.append(remove(id));
    const { text, zeros } = await split(path);
    assert.equal(text, `REMOVE ${id}\n`.repeat(3));
    assert.ok(zeros >= EXTENT_BYTES - 30, `zero tail ${zeros}`);
    await journal.close();
    assert.equal(await Deno.readTextFile(path), `REMOVE ${id}\n`.repeat(3));
  });
});

const MOUNT_PROBLEM = probeMount();

Deno.test({
  name:
    "LogfileJournal on a disk without room for an extent writes its groups all the same" +
    (MOUNT_PROBLEM === undefined
      ? ""
      : ` (skipped: cannot mount tmpfs: ${MOUNT_PROBLEM})`),
  ignore: MOUNT_PROBLEM !== undefined,
  async fn() {
    await withTempDir("ztick_prealloc_", async (dir) => {
      const mounted = await new Deno.Command("mount", {
        args: ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir],
      }).output();
      assert.ok(mounted.success, "mount failed");
      try {
        const path = `${dir}/logfile`;
        const journal = await open(path);
        for (let i = 0; i < 50; i++) await journal.append(remove(`a.${i}`));
        // The extent did not fit and was cut back: no zeros, only records.
        const { text, zeros } = await split(path);
        assert.equal(zeros, 0);
        assert.equal(text.split("\n").length - 1, 50);
        assert.ok(journal.writable);
        await journal.close();
      } finally {
        await unmount(dir);
      }
    });
  },
});

Deno.test("LogfileJournal without fsync does not preallocate", async () => {
  await withTempDir("ztick_prealloc_", async (dir) => {
    const path = `${dir}/logfile`;
    const journal = await open(path, false);
    await journal.append(remove("a"));
    assert.equal(await Deno.readTextFile(path), "REMOVE a\n");
    await journal.close();
  });
});

Deno.test("LogfileJournal opened on a zero tail writes right after the records", async () => {
  await withTempDir("ztick_prealloc_", async (dir) => {
    const path = `${dir}/logfile`;
    await writeWithZeros(path, "REMOVE a\n", 5000);
    for (const fsync of [true, false]) {
      const journal = await open(path, fsync);
      await journal.append(remove(`b.${fsync}`));
      await journal.close();
    }
    assert.equal(
      await Deno.readTextFile(path),
      "REMOVE a\nREMOVE b.true\nREMOVE b.false\n",
    );
  });
});

Deno.test("LogfileJournal compact() writes the new file, which grows in extents too", async () => {
  await withTempDir("ztick_prealloc_", async (dir) => {
    const path = `${dir}/logfile`;
    const journal = await open(path);
    await journal.append(remove("a"));
    await journal.compact();
    assert.equal(journal.compaction, "success");
    assert.equal(await Deno.readTextFile(path), "", "empty live state");
    await journal.append(remove("b"));
    const { text, zeros } = await split(path);
    assert.equal(text, "REMOVE b\n");
    assert.ok(zeros >= EXTENT_BYTES);
    await journal.close();
    assert.equal(await Deno.readTextFile(path), "REMOVE b\n");
  });
});

Deno.test("replayLogfile() ends the records at the zero tail and keeps it", async () => {
  await withTempDir("ztick_prealloc_", async (dir) => {
    const path = `${dir}/logfile`;
    await writeWithZeros(path, "REMOVE a\nREMOVE b\n", 300_000);
    const { mutations, warnings } = await replayLogfile(path);
    assert.deepEqual(mutations, [remove("a"), remove("b")]);
    assert.deepEqual(warnings, []);
    assert.equal((await Deno.stat(path)).size, 18 + 300_000);
  });
});

Deno.test("replayLogfile() drops a torn line before the zero tail and cuts both off", async () => {
  await withTempDir("ztick_prealloc_", async (dir) => {
    const path = `${dir}/logfile`;
    await writeWithZeros(path, "REMOVE a\nSET b 17", 70_000);
    const { mutations, warnings } = await replayLogfile(path);
    assert.deepEqual(mutations, [remove("a")]);
    assert.deepEqual(warnings, [
      "logfile: dropped incomplete last line (8 bytes)",
    ]);
    assert.equal(await Deno.readTextFile(path), "REMOVE a\n");
  });
});

Deno.test("replayLogfile() skips a line holding NUL bytes inside the file and loads the rest", async () => {
  await withTempDir("ztick_prealloc_", async (dir) => {
    const path = `${dir}/logfile`;
    const bytes = ENCODER.encode("REMOVE a\n\0\0\0\nREMOVE b\n\0\0");
    await Deno.writeFile(path, bytes);
    const { mutations, warnings } = await replayLogfile(path);
    assert.deepEqual(mutations, [remove("a"), remove("b")]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^logfile: line 2 skipped: /);
  });
});

Deno.test("runDump() stops at the zero tail, and --follow prints records written into it", async () => {
  await withTempDir("ztick_prealloc_", async (dir) => {
    const path = `${dir}/logfile`;
    await writeWithZeros(path, "REMOVE a\nREMOVE b\n", 100_000);
    const out = { stdout: "", stderr: "" };
    const capture = (key: "stdout" | "stderr") => (text: string) => {
      out[key] += text;
    };
    const base = { logfile: path, format: "text", compact: false } as const;
    const code = await runDump({
      ...base,
      follow: false,
      stdout: capture("stdout"),
      stderr: capture("stderr"),
    });
    assert.deepEqual([code, out.stdout, out.stderr], [
      0,
      "REMOVE a\nREMOVE b\n",
      "",
    ]);
    out.stdout = "";
    const controller = new AbortController();
    const done = runDump({
      ...base,
      follow: true,
      pollMs: 20,
      signal: controller.signal,
      stdout: capture("stdout"),
      stderr: capture("stderr"),
    });
    try {
      await until(() => out.stdout === "REMOVE a\nREMOVE b\n");
      // What the daemon does: write over the zeros, the length unchanged.
      using file = await Deno.open(path, { write: true });
      await file.seek(18, Deno.SeekMode.Start);
      await file.write(ENCODER.encode("REMOVE c\nREM"));
      await until(() => out.stdout.endsWith("REMOVE c\n"));
      await file.write(ENCODER.encode("OVE d\n"));
      await until(() => out.stdout.endsWith("REMOVE d\n"));
    } finally {
      controller.abort();
      assert.equal(await done, 0);
    }
    assert.equal(out.stdout, "REMOVE a\nREMOVE b\nREMOVE c\nREMOVE d\n");
    assert.equal(out.stderr, "");
  });
});

async function until(predicate: () => boolean, timeoutMs = 5000) {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
