import assert from "node:assert/strict";
import { type DumpOptions, runDump } from "../../src/dump.ts";
import { withTempDir } from "../_helpers/fs.ts";

const ENCODER = new TextEncoder();
const NOTICE = "notice: logfile was compacted; re-reading from the start\n";

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a dump to completion, capturing its output. */
async function dump(
  logfile: string,
  options: Partial<DumpOptions> = {},
): Promise<Captured> {
  let stdout = "";
  let stderr = "";
  const code = await runDump({
    logfile,
    format: "text",
    compact: false,
    follow: false,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    ...options,
  });
  return { code, stdout, stderr };
}

/** A running `--follow` dump: its output so far and how to stop it. */
interface Following {
  readonly out: { stdout: string; stderr: string };
  stop(): Promise<number>;
}

function follow(
  logfile: string,
  options: Partial<DumpOptions> = {},
): Following {
  const out = { stdout: "", stderr: "" };
  const controller = new AbortController();
  const done = runDump({
    logfile,
    format: "text",
    compact: false,
    follow: true,
    pollMs: 20,
    signal: controller.signal,
    stdout: (text) => {
      out.stdout += text;
    },
    stderr: (text) => {
      out.stderr += text;
    },
    ...options,
  });
  return {
    out,
    stop() {
      controller.abort();
      return done;
    },
  };
}

/** Polls `predicate` until it holds, failing after `timeoutMs`. */
async function waitFor(
  what: string,
  predicate: () => boolean,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function append(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { append: true });
}

/** One canonical line of every record and runner type. */
const CANONICAL = [
  'RULE SET r.shell s. shell "/bin/echo hi"',
  "RULE SET r.direct d. direct /usr/bin/ping -c 1 10.0.0.1",
  "RULE SET r.direct0 d0. direct /bin/true",
  "RULE SET r.http h. http POST https://ci.example.org/hooks/deploy",
  'RULE SET r.awf a. awf nightly-review --input branch=main --input "depth 2"',
  "RULE SET r.awf0 a0. awf plain",
  "RULE SET r.amqp q. amqp amqp://app:s3cret@mq.internal:5672/ scheduler job.due",
  "RULE SET r.redis x. redis redis://cache.internal:6379/2 RPUSH queue:due",
  'RULE SET r.all "" shell "x y"',
  "SET backup.daily 1775008800000000000 executed",
  "SET big 9007199254740993 planned",
  "SET max 9223372036854775807 triggered",
  "SET neg -1000000000000000001 failed",
  'SET "odd \\"id\\"\\\\ é\t" 0 planned',
  "REMOVE gone",
  "REMOVERULE r.gone",
];

const JSON_LINES = [
  '{"type":"rule_set","identifier":"r.shell","pattern":"s.","runner":{"type":"shell","command":"/bin/echo hi"}}',
  '{"type":"rule_set","identifier":"r.direct","pattern":"d.","runner":{"type":"direct","executable":"/usr/bin/ping","args":["-c","1","10.0.0.1"]}}',
  '{"type":"rule_set","identifier":"r.direct0","pattern":"d0.","runner":{"type":"direct","executable":"/bin/true","args":[]}}',
  '{"type":"rule_set","identifier":"r.http","pattern":"h.","runner":{"type":"http","method":"POST","url":"https://ci.example.org/hooks/deploy"}}',
  '{"type":"rule_set","identifier":"r.awf","pattern":"a.","runner":{"type":"awf","workflow":"nightly-review","inputs":["branch=main","depth 2"]}}',
  '{"type":"rule_set","identifier":"r.awf0","pattern":"a0.","runner":{"type":"awf","workflow":"plain","inputs":[]}}',
  '{"type":"rule_set","identifier":"r.amqp","pattern":"q.","runner":{"type":"amqp","dsn":"amqp://app:s3cret@mq.internal:5672/","exchange":"scheduler","routing_key":"job.due"}}',
  '{"type":"rule_set","identifier":"r.redis","pattern":"x.","runner":{"type":"redis","url":"redis://cache.internal:6379/2","command":"RPUSH","key":"queue:due"}}',
  '{"type":"rule_set","identifier":"r.all","pattern":"","runner":{"type":"shell","command":"x y"}}',
  '{"type":"set","identifier":"backup.daily","execution":1775008800000000000,"status":"executed"}',
  '{"type":"set","identifier":"big","execution":9007199254740993,"status":"planned"}',
  '{"type":"set","identifier":"max","execution":9223372036854775807,"status":"triggered"}',
  '{"type":"set","identifier":"neg","execution":-1000000000000000001,"status":"failed"}',
  '{"type":"set","identifier":"odd \\"id\\"\\\\ é\\t","execution":0,"status":"planned"}',
  '{"type":"remove","identifier":"gone"}',
  '{"type":"remove_rule","identifier":"r.gone"}',
];

Deno.test("runDump() prints a canonical file's valid lines unchanged", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    const path = `${dir}/logfile`;
    const text = CANONICAL.map((line) => `${line}\n`).join("");
    await Deno.writeTextFile(path, text);
    assert.deepEqual(await dump(path), { code: 0, stdout: text, stderr: "" });
  });
});

Deno.test("runDump() rewrites non-canonical lines canonically", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeTextFile(
      path,
      [
        '   SET   "a"   "1"   planned   ',
        "# a comment",
        "",
        'RULE  SET "r1" "p." "shell" "true"\r',
        'REMOVE "x"',
        'RULE SET r2 p2. direct "/bin/echo" a"b c"d',
        'RULE SET r3 p3. shell "say \\"hi\\" \\\\o/"',
        "",
      ].join("\n"),
    );
    assert.deepEqual(await dump(path), {
      code: 0,
      stdout: [
        "SET a 1 planned",
        "RULE SET r1 p. shell true",
        "REMOVE x",
        'RULE SET r2 p2. direct /bin/echo a "b c" d',
        'RULE SET r3 p3. shell "say \\"hi\\" \\\\o/"',
        "",
      ].join("\n"),
      stderr: "",
    });
  });
});

Deno.test("runDump() --format json prints every record and runner type exactly", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeTextFile(path, CANONICAL.map((l) => `${l}\n`).join(""));
    const { code, stdout, stderr } = await dump(path, { format: "json" });
    assert.equal(code, 0);
    assert.equal(stderr, "");
    assert.deepEqual(stdout.split("\n"), [...JSON_LINES, ""]);
    for (const line of JSON_LINES) JSON.parse(line); // each is valid JSON
  });
});

Deno.test("runDump() --compact keeps the last record per job id and per rule id, in their order", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeTextFile(
      path,
      [
        "SET a 1 planned",
        "RULE SET r p. shell x",
        "SET b 2 planned",
        "SET a 1 executed",
        "REMOVE b",
        "RULE SET s q. shell y",
        "REMOVERULE r",
        "SET c 3 planned",
        "REMOVE c",
        "SET b 5 planned",
        "RULE SET r p. shell z",
        "SET x 7 planned",
        "REMOVERULE x", // a rule id: does not remove job x
        "REMOVE never.set",
        "",
      ].join("\n"),
    );
    const expected = [
      "SET a 1 executed",
      "RULE SET s q. shell y",
      "SET b 5 planned",
      "RULE SET r p. shell z",
      "SET x 7 planned",
      "",
    ].join("\n");
    assert.deepEqual(await dump(path, { compact: true }), {
      code: 0,
      stdout: expected,
      stderr: "",
    });
    const json = await dump(path, { compact: true, format: "json" });
    assert.equal(json.stdout.split("\n").length, 6);
    assert.equal(
      json.stdout.split("\n")[0],
      '{"type":"set","identifier":"a","execution":1,"status":"executed"}',
    );
  });
});

Deno.test("runDump() warns about corrupt lines and a torn tail and leaves the file alone", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    const path = `${dir}/logfile`;
    const content = new Uint8Array([
      ...ENCODER.encode("SET a 1 planned\nSET b 1 sleeping\nSET "),
      0xff,
      ...ENCODER.encode(" 1 planned\nREMOVE a\nSET c 2"),
    ]);
    await Deno.writeFile(path, content);
    assert.deepEqual(await dump(path), {
      code: 0,
      stdout: "SET a 1 planned\nREMOVE a\n",
      stderr: 'warning: line 2 skipped: unknown status "sleeping"\n' +
        "warning: line 3 skipped: invalid UTF-8\n" +
        "warning: incomplete last line (7 bytes) ignored\n",
    });
    assert.deepEqual(await Deno.readFile(path), content);
  });
});

Deno.test("runDump() prints nothing for an empty file", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    const path = `${dir}/logfile`;
    await Deno.writeTextFile(path, "");
    assert.deepEqual(await dump(path), { code: 0, stdout: "", stderr: "" });
    assert.deepEqual(await dump(path, { format: "json", compact: true }), {
      code: 0,
      stdout: "",
      stderr: "",
    });
  });
});

Deno.test("runDump() reports a missing file with exit code 1", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    const path = `${dir}/nope`;
    assert.deepEqual(await dump(path), {
      code: 1,
      stdout: "",
      stderr: `error: file not found: ${path}\n`,
    });
    assert.deepEqual(await dump(path, { follow: true }), {
      code: 1,
      stdout: "",
      stderr: `error: file not found: ${path}\n`,
    });
  });
});

Deno.test("runDump() reports a directory as unreadable with exit code 1", async () => {
  await withTempDir("ztick_dump_test_", async (dir) => {
    assert.deepEqual(await dump(dir), {
      code: 1,
      stdout: "",
      stderr: `error: cannot read ${dir}: Is a directory (os error 21)\n`,
    });
  });
});

Deno.test({
  name: "runDump() reports a file Deno may not read as permission denied",
  permissions: { read: false },
  async fn() {
    assert.deepEqual(await dump("/etc/hostname"), {
      code: 1,
      stdout: "",
      stderr: "error: permission denied: /etc/hostname\n",
    });
  },
});

const IS_ROOT = Deno.uid() === 0;
const HAS_SETPRIV = IS_ROOT && await new Deno.Command("setpriv", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
}).output().then((o) => o.success, () => false);

Deno.test({
  name: IS_ROOT && !HAS_SETPRIV
    ? "runDump() reports an unreadable file as permission denied " +
      "(SKIPPED: running as root, which reads mode-000 files, and setpriv " +
      "is missing to drop CAP_DAC_OVERRIDE)"
    : "runDump() reports an unreadable (mode 000) file as permission denied",
  ignore: IS_ROOT && !HAS_SETPRIV,
  async fn() {
    await withTempDir("ztick_dump_test_", async (dir) => {
      const path = `${dir}/logfile`;
      await Deno.writeTextFile(path, "SET a 1 planned\n");
      await Deno.chmod(path, 0o000);
      if (!IS_ROOT) {
        assert.deepEqual(await dump(path), {
          code: 1,
          stdout: "",
          stderr: `error: permission denied: ${path}\n`,
        });
        return;
      }
      // Root reads mode-000 files; a child without the DAC capabilities
      // gets EACCES like any other user.
      const dumpUrl = new URL("../../src/dump.ts", import.meta.url).href;
      const output = await new Deno.Command("setpriv", {
        args: [
          "--bounding-set=-dac_override,-dac_read_search",
          "--",
          Deno.execPath(),
          "eval",
          `import { runDump } from ${JSON.stringify(dumpUrl)};
           Deno.exit(await runDump({
             logfile: ${JSON.stringify(path)},
             format: "text", compact: false, follow: false,
           }));`,
        ],
        cwd: new URL("../..", import.meta.url).pathname,
        env: { NO_COLOR: "1", RUST_BACKTRACE: "0" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const decoder = new TextDecoder();
      assert.equal(decoder.decode(output.stdout), "");
      assert.equal(
        decoder.decode(output.stderr),
        `error: permission denied: ${path}\n`,
      );
      assert.equal(output.code, 1);
    });
  },
});

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
