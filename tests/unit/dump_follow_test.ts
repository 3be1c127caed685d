/** runDump() into a stream and with --follow: appends, compactions, torn tails, files that shrink, abort. */
import assert from "node:assert/strict";
import { runDump } from "../../src/dump.ts";
import { withTempDir } from "../_helpers/fs.ts";
import { append, dump, follow, NOTICE, waitFor } from "./_dump.ts";

Deno.test("runDump() writes to a WritableStream and releases it", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeTextFile(path, "REMOVE a\nREMOVE b\n");
    const chunks: Uint8Array[] = [];
    const stdout = new WritableStream<Uint8Array>({
      write(chunk) {
        chunks.push(chunk);
      },
    });
    const code = await runDump({
      logfile: path,
      format: "text",
      compact: false,
      follow: false,
      stdout,
      stderr: () => {},
    });
    assert.equal(code, 0);
    assert.equal(stdout.locked, false);
    const text = chunks.map((c) => new TextDecoder().decode(c)).join("");
    assert.equal(text, "REMOVE a\nREMOVE b\n");
  });
});

Deno.test("runDump() --follow prints completed appends, re-reads after a compaction and stops on abort", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeTextFile(path, "SET a 1 planned\n");
    const running = follow(path);
    const { out } = running;
    try {
      await waitFor(
        "initial content",
        () => out.stdout === "SET a 1 planned\n",
      );

      await append(path, "SET b 2 planned\nSET c 3 pl");
      await waitFor("appended line", () => out.stdout.includes("SET b"));
      assert.equal(out.stdout, "SET a 1 planned\nSET b 2 planned\n");
      await append(path, "anned\n");
      await waitFor("completed line", () => out.stdout.includes("SET c"));
      assert.equal(
        out.stdout,
        "SET a 1 planned\nSET b 2 planned\nSET c 3 planned\n",
      );

      // What the daemon's compaction does: write a temp file, rename it over.
      const compacted = "RULE SET r p. shell x\nSET a 1 executed\n";
      await Deno.writeTextFile(`${path}.compact`, compacted);
      await Deno.rename(`${path}.compact`, path);
      await waitFor("re-read", () => out.stdout.endsWith(compacted));
      assert.equal(out.stderr, NOTICE);
      assert.equal(
        out.stdout,
        "SET a 1 planned\nSET b 2 planned\nSET c 3 planned\n" + compacted,
      );

      await append(path, "REMOVE a\nSET d");
      await waitFor(
        "append to new file",
        () => out.stdout.endsWith("REMOVE a\n"),
      );
    } finally {
      assert.equal(await running.stop(), 0);
    }
    assert.equal(
      out.stderr,
      NOTICE + "warning: incomplete last line (5 bytes) ignored\n",
    );
  });
});

Deno.test("runDump() --follow drops a torn tail cut off by the daemon's startup repair", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeTextFile(path, "SET a 1 planned\nSET b 2 pl");
    const running = follow(path);
    const { out } = running;
    try {
      await waitFor(
        "initial content",
        () => out.stdout === "SET a 1 planned\n",
      );
      await Deno.truncate(path, 16);
      await waitFor("warning", () => out.stderr !== "");
      assert.equal(
        out.stderr,
        "warning: incomplete last line (10 bytes) ignored\n",
      );
      await append(path, "SET c 3 planned\n");
      await waitFor("append", () => out.stdout.includes("SET c"));
      assert.equal(out.stdout, "SET a 1 planned\nSET c 3 planned\n");
    } finally {
      assert.equal(await running.stop(), 0);
    }
    assert.equal(
      out.stderr,
      "warning: incomplete last line (10 bytes) ignored\n",
    );
  });
});

Deno.test("runDump() --follow re-reads a file that shrank in place", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeTextFile(path, "SET a 1 planned\nSET b 2 planned\n");
    const running = follow(path);
    const { out } = running;
    try {
      await waitFor("initial content", () => out.stdout.includes("SET b"));
      await Deno.writeTextFile(path, "SET z 9 planned\n"); // same inode
      await waitFor("re-read", () => out.stdout.endsWith("SET z 9 planned\n"));
    } finally {
      assert.equal(await running.stop(), 0);
    }
    assert.equal(out.stderr, NOTICE);
    assert.equal(
      out.stdout,
      "SET a 1 planned\nSET b 2 planned\nSET z 9 planned\n",
    );
  });
});

Deno.test("runDump() --follow --compact compacts each read from the start and prints appends as they come", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeTextFile(
      path,
      "SET a 1 planned\nSET a 1 executed\nSET b 2 planned\nREMOVE b\n",
    );
    const running = follow(path, { compact: true, format: "json" });
    const { out } = running;
    const a =
      '{"type":"set","identifier":"a","execution":1,"status":"executed"}\n';
    try {
      await waitFor("initial content", () => out.stdout !== "");
      assert.equal(out.stdout, a);
      await append(path, "REMOVE a\n");
      await waitFor("append", () => out.stdout !== a);
      assert.equal(out.stdout, a + '{"type":"remove","identifier":"a"}\n');
      const compacted = "SET c 3 planned\nSET c 3 failed\n";
      await Deno.writeTextFile(`${path}.compact`, compacted);
      await Deno.rename(`${path}.compact`, path);
      await waitFor("re-read", () => out.stderr !== "");
      await waitFor("compacted re-read", () => out.stdout.includes('"c"'));
    } finally {
      assert.equal(await running.stop(), 0);
    }
    assert.equal(out.stderr, NOTICE);
    assert.equal(
      out.stdout,
      a + '{"type":"remove","identifier":"a"}\n' +
        '{"type":"set","identifier":"c","execution":3,"status":"failed"}\n',
    );
  });
});

Deno.test("runDump() --follow stops at once when its signal is already aborted", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeTextFile(path, "REMOVE a\n");
    const started = performance.now();
    const result = await dump(path, {
      follow: true,
      signal: AbortSignal.abort(),
    });
    assert.deepEqual(result, { code: 0, stdout: "REMOVE a\n", stderr: "" });
    assert.ok(performance.now() - started < 1000);
  });
});
