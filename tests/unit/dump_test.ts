/** runDump() on whole files: canonical output, JSON, --compact, warnings and errors (streams and --follow in dump_follow_test.ts). */
import assert from "node:assert/strict";
import { withTempDir } from "../_helpers/fs.ts";
import { CANONICAL, dump, ENCODER, JSON_LINES } from "./_dump.ts";

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
