/** Read-only mode of the real daemon on a really full filesystem, and its recovery (spec: persistence.md §5). */
import assert from "node:assert/strict";
import { converse, TestClient, waitFor } from "../_helpers/client.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";
import { exists, unmount, withTempDir } from "../_helpers/fs.ts";
import {
  assertState,
  FAR_NS,
  fillDisk,
  Model,
  stat,
  statValue,
  writeConfig,
} from "../_helpers/model.ts";
import { get, MOUNT_PROBLEM } from "./_durability.ts";

Deno.test({
  name:
    "a full disk makes the daemon read-only: reads work, mutations fail, due jobs wait; freeing space recovers" +
    (MOUNT_PROBLEM === undefined
      ? ""
      : ` (skipped: cannot mount tmpfs: ${MOUNT_PROBLEM})`),
  ignore: MOUNT_PROBLEM !== undefined,
  async fn() {
    await withTempDir("ztick-durability-", async (dir) => {
      const disk = `${dir}/disk`;
      const markers = `${dir}/markers`; // outside the full filesystem
      await Deno.mkdir(disk);
      await Deno.mkdir(markers);
      const mounted = await new Deno.Command("mount", {
        args: ["-t", "tmpfs", "-o", "size=128k", "tmpfs", disk],
      }).output();
      assert.ok(mounted.success, "mount failed");
      let daemon: DaemonProcess | undefined;
      try {
        const logfile = `${disk}/logfile`;
        const config = await writeConfig(dir, "config.toml", { logfile });
        daemon = await DaemonProcess.start(config);
        const { port } = daemon;
        const model = new Model();
        const setUp = [
          model.setRule("a", "rule.held", {
            pattern: "held.",
            runner: ["shell", `touch ${markers}/"$ZTICK_JOB_ID"`],
          }),
          model.setRule("b", "rule.other", {
            pattern: "other.",
            runner: ["shell", "true"],
          }),
          ...Array.from(
            { length: 20 },
            (_, i) => model.setJob(`k${i}`, `keep.${i}`, FAR_NS + BigInt(i)),
          ),
        ];
        // Due while the disk is full: a few seconds is ample to fill it.
        const dueNs = BigInt(Date.now() + 3000) * 1_000_000n;
        setUp.push(model.setJob("h", "held.job", dueNs));
        const answers = await converse(port, setUp.join("\n") + "\n");
        assert.doesNotMatch(answers, /ERROR/);

        const filler = `${disk}/filler`;
        assert.ok(await fillDisk(filler) > 0);
        // The logfile's last page may still take a few records.
        using client = await TestClient.connect(port);
        let failedAt: number | undefined;
        for (let i = 0; failedAt === undefined && i < 5000; i++) {
          const line = `f${i} SET fill.${i} ${FAR_NS}`;
          const answer = await client.request(line);
          if (answer === `f${i} OK`) {
            model.jobs.set(`fill.${i}`, { ns: FAR_NS, status: "planned" });
          } else {
            assert.equal(answer, `f${i} ERROR`);
            failedAt = i;
          }
        }
        assert.ok(failedAt !== undefined, "the disk never filled up");
        assert.ok(
          BigInt(Date.now()) * 1_000_000n < dueNs,
          "filling the disk took too long: held.job fell due before",
        );
        await daemon.waitForLog(/\[ERROR\] logfile: .*No space left on device/);

        // Read-only: reads work, mutations fail at once.
        assert.equal(await statValue(port, "persistence_writable"), "0");
        assert.equal(await get(port, "keep.1"), `g OK planned ${FAR_NS + 1n}`);
        assert.equal(await get(port, `fill.${failedAt}`), "g ERROR");
        await assertState(port, model, "in read-only mode");
        const refused = [
          `w1 SET new.1 ${FAR_NS}`,
          `w2 SET keep.1 ${FAR_NS}`,
          "w3 REMOVE keep.2",
          "w4 RULE SET rule.x x. shell true",
          "w5 REMOVERULE rule.other",
        ];
        for (const line of refused) {
          const requestId = line.split(" ")[0]!;
          assert.equal(await client.request(line), `${requestId} ERROR`);
          await daemon.waitForLog(
            new RegExp(`\\[INFO\\] request ${requestId}: \\S`),
          );
        }
        await assertState(port, model, "after refused mutations");

        // The due job is held: it stays planned and its command does not run.
        const heldUntil = Number(dueNs / 1_000_000n) + 1500;
        while (Date.now() < heldUntil) {
          assert.equal(await get(port, "held.job"), `g OK planned ${dueNs}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const held = await stat(port);
        assert.equal(held.get("jobs_triggered"), "0");
        assert.equal(held.get("persistence_writable"), "0");
        assert.equal(await exists(`${markers}/held.job`), false);

        // Space comes back: the daemon rewrites the file and leaves read-only.
        await Deno.remove(filler);
        await waitFor(
          async () =>
            await statValue(port, "persistence_writable") === "1" || undefined,
          { what: "persistence_writable 1", timeoutMs: 5000 },
        );
        await daemon.waitForLog(/\[WARN\] logfile: recovered/);
        await waitFor(
          async () =>
            (await get(port, "held.job")).startsWith("g OK executed ") ||
            undefined,
          { what: "held.job to run" },
        );
        model.jobs.set("held.job", { ns: dueNs, status: "executed" });
        assert.equal(await exists(`${markers}/held.job`), true);
        assert.equal(
          await client.request(model.setJob("n1", "after.1", FAR_NS)),
          "n1 OK",
        );
        await assertState(port, model, "after recovery");
        client[Symbol.dispose]();

        // What was acknowledged is what a restart finds.
        assert.equal(await daemon.stop("SIGTERM"), 0);
        daemon = await DaemonProcess.start(config);
        assert.doesNotMatch(daemon.log, /\[WARN\]/);
        await assertState(daemon.port, model, "after a restart");
      } finally {
        await daemon?.stop("SIGKILL");
        await unmount(disk);
      }
    });
  },
});
