/**
 * Jobs started by a daemon run as `deno task start` runs it: processes
 * come from posix_spawnp through FFI, with no `--allow-run`, each in its
 * own session, with only fds 0–2 and normal signal dispositions although
 * the daemon guards SIGUSR1/SIGUSR2 and Deno ignores SIGPIPE (spec:
 * runners.md §2, configuration.md §1 "Signals").
 */
import assert from "node:assert/strict";
import { converse, waitFor } from "../_helpers/client.ts";
import { withTempDir } from "../_helpers/fs.ts";
import { writeConfig } from "../_helpers/model.ts";
import { DAEMON_PERMISSIONS, DaemonProcess } from "../_helpers/subprocess.ts";

const nowNs = () => BigInt(Date.now()) * 1_000_000n;
/** Bits of SIGUSR1, SIGUSR2 and SIGPIPE in /proc masks (bit n-1 = signal n). */
const GUARDED_BITS = (1n << 9n) | (1n << 11n) | (1n << 12n);

function statusBecomes(port: number, jobId: string, expected: string) {
  return waitFor(async () => {
    const answer = await converse(port, `g GET ${jobId}\n`);
    return answer.startsWith(`g OK ${expected} `) || undefined;
  }, { what: `${jobId} to be ${expected}` });
}

Deno.test("a daemon without --allow-run spawns a session leader with fds 0-2 and default signals", async () => {
  assert.ok(
    !DAEMON_PERMISSIONS.some((flag) => flag.startsWith("--allow-run")),
    "the start task grants no --allow-run",
  );
  await withTempDir("ztick-spawn-", async (dir) => {
    const config = await writeConfig(dir, "ztick.toml", { fsync: false });
    await using daemon = await DaemonProcess.start(config);
    const out = `${dir}/out`;
    // `exec >file` moves fd 1 without keeping a copy; ls writes to it
    // directly, so the shell holds nothing else while ls lists its fds.
    const script = `exec >${out}; ls -1 /proc/$$/fd; ` +
      `grep NSsid /proc/$$/status; echo pid $$`;
    // No shell for the masks: dash blocks signals now and then.
    const masks = `sed -E -n "/^Sig(Blk|Ign)/w ${dir}/masks" /proc/self/status`;
    const answer = await converse(
      daemon.port,
      `a RULE SET r p. shell "${script}"\n` +
        `b RULE SET m m. direct ${masks}\n` +
        `c RULE SET k k. shell "kill -USR1 $$; echo survived > ${dir}/k"\n` +
        `d SET p.1 ${nowNs()}\ne SET m.1 ${nowNs()}\nf SET k.1 ${nowNs()}\n`,
    );
    assert.equal(answer, "a OK\nb OK\nc OK\nd OK\ne OK\nf OK\n");
    await statusBecomes(daemon.port, "p.1", "executed");
    const report = await Deno.readTextFile(out);
    assert.equal(report.match(/^(\d+\n)+/)?.[0], "0\n1\n2\n", report);
    const pid = report.match(/^pid (\d+)$/m)?.[1];
    assert.match(report, new RegExp(`^NSsid:\\s+${pid}$`, "m"), report);
    await statusBecomes(daemon.port, "m.1", "executed");
    const sig = await Deno.readTextFile(`${dir}/masks`);
    assert.match(sig, /^SigBlk:\s+0+$/m, sig);
    const ignored = BigInt(`0x${sig.match(/^SigIgn:\s+(\w+)$/m)?.[1]}`);
    assert.equal(ignored & GUARDED_BITS, 0n, sig);
    // SIGUSR1 does what it does by default: the job's shell dies of it.
    await statusBecomes(daemon.port, "k.1", "failed");
    await assert.rejects(Deno.stat(`${dir}/k`), Deno.errors.NotFound);
    assert.doesNotMatch(daemon.log, /cannot run|FFI/, daemon.log);
  });
});
