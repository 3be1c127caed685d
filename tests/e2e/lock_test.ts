/**
 * One daemon per logfile: a second one is refused before it touches the
 * files, also after the first has compacted (a lock on the logfile itself
 * would be lost with its inode); dump still reads a locked logfile
 * (spec: persistence.md §8, configuration.md §3).
 */
import assert from "node:assert/strict";
import { converse, waitFor } from "../_helpers/client.ts";
import { withTempDir } from "../_helpers/fs.ts";
import { statValue, writeConfig } from "../_helpers/model.ts";
import { DaemonProcess, runZtick } from "../_helpers/subprocess.ts";

Deno.test("a second daemon on the same logfile is refused, before and after the first compacts, and dump still reads it", async () => {
  await withTempDir("ztick-lock-", async (dir) => {
    const logfile = `${dir}/logfile`;
    const config = await writeConfig(dir, "config.toml", {
      logfile,
      compressionIntervalS: 1,
    });
    const refused = `error: logfile: ${logfile} is locked by another process\n`;
    const first = await DaemonProcess.start(config);
    try {
      assert.equal(
        await converse(first.port, "r1 SET a.1 4102444800000000000\n"),
        "r1 OK\n",
      );
      const before = await Deno.readTextFile(logfile);
      const second = await runZtick(["-c", config]);
      assert.equal(second.code, 1);
      assert.equal(second.stderr.split("\n").at(-2) + "\n", refused);
      assert.equal(await Deno.readTextFile(logfile), before);

      await waitFor(
        async () =>
          await statValue(first.port, "compression") === "success" ||
          undefined,
        { what: "a compaction", timeoutMs: 5000 },
      );
      const third = await runZtick(["-c", config]);
      assert.equal(third.code, 1);
      assert.equal(third.stderr.split("\n").at(-2) + "\n", refused);

      const dump = await runZtick(["dump", logfile]);
      assert.equal(dump.code, 0);
      assert.equal(dump.stdout, "SET a.1 4102444800000000000 planned\n");
      assert.equal((await Deno.stat(`${logfile}.lock`)).mode! & 0o777, 0o600);
    } finally {
      assert.equal(await first.stop("SIGTERM"), 0);
    }
    // Released at exit: the next daemon starts.
    const next = await DaemonProcess.start(config);
    assert.equal(
      await converse(next.port, "r1 GET a.1\n"),
      "r1 OK planned 4102444800000000000\n",
    );
    await next.stop("SIGTERM");
  });
});
