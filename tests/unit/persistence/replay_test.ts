import assert from "node:assert/strict";
import { EXAMPLE_LOG } from "./_example_log.ts";
import type { Mutation } from "../../../src/domain/mutation.ts";
import type { Job } from "../../../src/domain/job.ts";
import type { Rule } from "../../../src/domain/rule.ts";
import {
  parseCanonicalSet,
  parseRecord,
  parseTokenizedRecord,
} from "../../../src/persistence/record.ts";
import { LogfileError } from "../../../src/persistence/files.ts";
import {
  type ByteReader,
  LineReader,
  replayLogfile,
  splitLines,
} from "../../../src/persistence/replay.ts";
import { withTempDir } from "../../_helpers/fs.ts";

const ENCODER = new TextEncoder();

function bytes(...parts: (string | number[])[]): Uint8Array {
  const chunks = parts.map((part) =>
    typeof part === "string" ? ENCODER.encode(part) : new Uint8Array(part)
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Applies records as replay step 2 describes (persistence.md §6). */
function applyAll(mutations: readonly Mutation[]) {
  const jobs = new Map<string, Job>();
  const rules = new Map<string, Rule>();
  for (const mutation of mutations) {
    switch (mutation.kind) {
      case "set":
        jobs.set(mutation.job.id, mutation.job);
        break;
      case "remove":
        jobs.delete(mutation.jobId);
        break;
      case "ruleSet":
        rules.set(mutation.rule.id, mutation.rule);
        break;
      case "removeRule":
        rules.delete(mutation.ruleId);
        break;
    }
  }
  return { jobs, rules };
}

Deno.test("replayLogfile() drops a torn tail, warns and truncates the file", async () => {
  await withTempDir("ztick_replay_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeTextFile(
      path,
      "SET a 1 planned\nREMOVE b\nSET c 12345 plan",
    );
    const { mutations, warnings } = await replayLogfile(path);
    assert.deepEqual(mutations, [
      { kind: "set", job: { id: "a", executionNs: 1n, status: "planned" } },
      { kind: "remove", jobId: "b" },
    ]);
    assert.deepEqual(warnings, [
      "logfile: dropped incomplete last line (16 bytes)",
    ]);
    assert.equal(await Deno.readTextFile(path), "SET a 1 planned\nREMOVE b\n");
    // A second start finds nothing to repair.
    const again = await replayLogfile(path);
    assert.deepEqual(again.warnings, []);
    assert.equal(again.mutations.length, 2);
  });
});

Deno.test("replayLogfile() truncates a torn tail that is the only line, even if invalid UTF-8", async () => {
  await withTempDir("ztick_replay_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeFile(path, bytes("SET x ", [0xe2, 0x82]));
    const { mutations, warnings } = await replayLogfile(path);
    assert.deepEqual(mutations, []);
    assert.deepEqual(warnings, [
      "logfile: dropped incomplete last line (8 bytes)",
    ]);
    assert.equal((await Deno.stat(path)).size, 0);
  });
});

Deno.test("replayLogfile() skips corrupt lines with their 1-based numbers and loads later lines", async () => {
  await withTempDir("ztick_replay_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeFile(
      path,
      bytes(
        "SET a 1 planned\n",
        "SET b 1 sleeping\n",
        "SET ",
        [0x63, 0xff, 0x20], // "c\xff "
        "1 planned\n",
        "FROB x\n",
        'REMOVE "unclosed\n',
        "SET d 99999999999999999999 planned\n",
        "RULE SET r p. http GET ftp://x\n",
        "SET e 2 executed\n",
      ),
    );
    const { mutations, warnings } = await replayLogfile(path);
    assert.deepEqual(mutations, [
      { kind: "set", job: { id: "a", executionNs: 1n, status: "planned" } },
      { kind: "set", job: { id: "e", executionNs: 2n, status: "executed" } },
    ]);
    assert.deepEqual(warnings, [
      'logfile: line 2 skipped: unknown status "sleeping"',
      "logfile: line 3 skipped: invalid UTF-8",
      'logfile: line 4 skipped: unknown record "FROB"',
      "logfile: line 5 skipped: unclosed quote",
      'logfile: line 6 skipped: Cannot read timestamp "99999999999999999999": out of range',
      "logfile: line 7 skipped: http url must start with http:// or https://",
    ]);
    // Corrupt complete lines are left for the next compaction to remove.
    assert.equal((await Deno.stat(path)).size > 0, true);
  });
});

Deno.test("replayLogfile() ignores blank and comment lines and a CR before LF", async () => {
  await withTempDir("ztick_replay_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeTextFile(
      path,
      "\n   \n# a comment\n   # indented comment\r\n" +
        "SET a 1 planned\r\nREMOVERULE r\r\n\r\nSET b -5 failed\n",
    );
    const { mutations, warnings } = await replayLogfile(path);
    assert.deepEqual(warnings, []);
    assert.deepEqual(mutations, [
      { kind: "set", job: { id: "a", executionNs: 1n, status: "planned" } },
      { kind: "removeRule", ruleId: "r" },
      { kind: "set", job: { id: "b", executionNs: -5n, status: "failed" } },
    ]);
  });
});

Deno.test("replayLogfile() gives the replayed state of the persistence.md §9 example", async () => {
  await withTempDir("ztick_replay_test_", async (dir) => {
    const path = `${dir}/logfile`;
    const complete = EXAMPLE_LOG;
    await Deno.writeTextFile(path, `${complete}SET backup.weekly 17756136`);
    const { mutations, warnings } = await replayLogfile(path);
    assert.deepEqual(warnings, [
      "logfile: dropped incomplete last line (26 bytes)",
    ]);
    assert.equal(await Deno.readTextFile(path), complete);
    const { jobs, rules } = applyAll(mutations);
    assert.deepEqual([...rules.values()], [
      {
        id: "rule.backup",
        pattern: "backup.",
        runner: { kind: "shell", command: "/usr/local/bin/backup.sh" },
      },
      {
        id: "rule.report",
        pattern: "report.",
        runner: { kind: "shell", command: '/usr/bin/report --title "Q1"' },
      },
    ]);
    assert.deepEqual([...jobs.values()], [
      {
        id: "backup.daily",
        executionNs: 1775008800000000000n,
        status: "executed",
      },
      {
        id: "mail.welcome",
        executionNs: 1775030400000000000n,
        status: "failed",
      },
    ]);
  });
});

Deno.test("replayLogfile() deletes a leftover compaction temp file", async () => {
  await withTempDir("ztick_replay_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeTextFile(path, "REMOVE a\n");
    await Deno.writeTextFile(`${path}.compact`, "SET half 1 planned\nSET");
    const { mutations, warnings } = await replayLogfile(path);
    assert.deepEqual(mutations, [{ kind: "remove", jobId: "a" }]);
    assert.deepEqual(warnings, []);
    await assert.rejects(Deno.stat(`${path}.compact`), Deno.errors.NotFound);
  });
});

Deno.test("replayLogfile() creates a missing logfile with mode 0600", async () => {
  await withTempDir("ztick_replay_test_", async (dir) => {
    const path = `${dir}/logfile`;
    assert.deepEqual(await replayLogfile(path), {
      mutations: [],
      warnings: [],
    });
    const info = await Deno.stat(path);
    assert.equal(info.isFile, true);
    assert.equal(info.size, 0);
    assert.equal(info.mode! & 0o777, 0o600);
  });
});

Deno.test("replayLogfile() throws LogfileError when the directory does not exist", async () => {
  await withTempDir("ztick_replay_test_", async (dir) => {
    const path = `${dir}/missing/logfile`;
    const error = await replayLogfile(path).then(
      () => assert.fail("resolved"),
      (error: unknown) => error,
    );
    assert.ok(error instanceof LogfileError);
    assert.equal(
      error.message,
      `logfile: cannot open ${path}: No such file or directory (os error 2)`,
    );
    assert.equal(error.path, path);
  });
});

Deno.test("replayLogfile() throws LogfileError when the path is a directory", async () => {
  await withTempDir("ztick_replay_test_", async (dir) => {
    await assert.rejects(replayLogfile(dir), {
      name: "LogfileError",
      message: `logfile: cannot open ${dir}: Is a directory (os error 21)`,
    });
  });
});

Deno.test("replayLogfile() reads lines across chunk boundaries, multi-byte characters and a line longer than a chunk", async () => {
  await withTempDir("ztick_replay_test_", async (dir) => {
    const path = `${dir}/logfile`;
    const lines: string[] = [];
    // ~2.5 MiB of lines with 2- and 4-byte characters, so chunk boundaries
    // fall inside characters and inside lines.
    for (let i = 0; i < 40_000; i++) {
      lines.push(`SET job.é.${i}.😀 ${i - 20_000} executed`);
    }
    const long = "x".repeat(3 * 1024 * 1024);
    lines.splice(20_000, 0, `RULE SET r.long ${long} shell "echo hi"`);
    await Deno.writeFile(
      path,
      bytes(lines.join("\n"), "\n", [0xc3, 0x28, 0x0a], "REMOVE z\n"),
    );
    const { mutations, warnings } = await replayLogfile(path);
    assert.deepEqual(warnings, [
      `logfile: line ${lines.length + 1} skipped: invalid UTF-8`,
    ]);
    assert.equal(mutations.length, lines.length + 1);
    assert.deepEqual(mutations[0], {
      kind: "set",
      job: { id: "job.é.0.😀", executionNs: -20000n, status: "executed" },
    });
    assert.deepEqual(mutations[20_000], {
      kind: "ruleSet",
      rule: {
        id: "r.long",
        pattern: long,
        runner: { kind: "shell", command: "echo hi" },
      },
    });
    assert.deepEqual(mutations.at(-1), { kind: "remove", jobId: "z" });
    mutations.forEach((mutation, i) => {
      if (i < lines.length) assert.deepEqual(mutation, parseRecord(lines[i]!));
    });
  });
});

Deno.test("LineReader keeps an incomplete line across tiny reads and counts lines", async () => {
  const data = bytes("REMOVE a\r\n", [0xe2, 0x82, 0xac], "\nREMOVE b\nREM");
  let offset = 0;
  const source: ByteReader = {
    read(p) {
      if (offset >= data.length) return Promise.resolve(null);
      p[0] = data[offset++]!;
      return Promise.resolve(1);
    },
  };
  const lines: [string | undefined, number][] = [];
  const reader = new LineReader(source, (line, n) => lines.push([line, n]));
  await reader.readToEnd();
  assert.deepEqual(lines, [["REMOVE a", 1], ["€", 2], ["REMOVE b", 3]]);
  assert.equal(reader.lineCount, 3);
  assert.equal(reader.completeBytes, data.length - 3);
  assert.equal(reader.pendingBytes, 3);
  reader.dropPending();
  assert.equal(reader.pendingBytes, 0);
});

Deno.test("splitLines() leaves bytes after the last LF for later", () => {
  const seen: (string | undefined)[] = [];
  assert.equal(splitLines(bytes("no newline"), (line) => seen.push(line)), 0);
  assert.equal(splitLines(bytes("a\n\nb"), (line) => seen.push(line)), 3);
  assert.deepEqual(seen, ["a", ""]);
});

Deno.test("parseCanonicalSet() agrees with parseRecord() or defers to it", () => {
  const lines = [
    "SET a 1 planned",
    "SET backup.daily 1775008800000000000 executed",
    "SET a -9223372036854775808 triggered",
    "SET a 9223372036854775807 failed",
    "SET a 9223372036854775808 failed",
    "SET a -9223372036854775809 failed",
    "SET a\tb 1 planned",
    "SET a\\b 1 planned",
    "SET é😀 -0 planned",
    "SET a 1 planned ",
    " SET a 1 planned",
    "SET  a 1 planned",
    "SET a  1 planned",
    "SET a 1  planned",
    "SET a 1",
    "SET a planned",
    "SET a 1 plan",
    "SET a 1 Planned",
    "SET a 1 xplanned",
    "SET a 1 planned x",
    "SET a 0x10 planned",
    "SET a 1e3 planned",
    "SET a +1 planned",
    "SET a - planned",
    "SET a \u00a01 planned",
    'SET "a b" 1 planned',
    'SET a" 1 planned',
    "SET a\x01 1 planned",
    "SET a\x7f 1 planned",
    "SET \x1b 1 planned",
    "SET",
    "SET ",
    "SETa 1 planned",
    "set a 1 planned",
    "REMOVE a",
  ];
  for (const line of lines) {
    const fast = parseCanonicalSet(line);
    if (fast === undefined) continue;
    assert.deepEqual(fast, parseTokenizedRecord(line), line);
  }
  assert.notEqual(parseCanonicalSet("SET a 1 planned"), undefined);
  assert.notEqual(parseCanonicalSet("SET a\tb -7 failed"), undefined);
  assert.equal(
    parseCanonicalSet("SET a 9223372036854775808 failed"),
    undefined,
  );
  assert.equal(parseCanonicalSet("SET a\x01 1 planned"), undefined);
});
