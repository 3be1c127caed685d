/**
 * Retries and runs survive SIGKILL of the daemon process: killed while a job
 * waits for its retry, and while a retry runs (spec: extensions.md §2–§3,
 * persistence.md §5–§6).
 */
import assert from "node:assert/strict";
import { converse, waitFor } from "../_helpers/client.ts";
import { writeConfig } from "../_helpers/model.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";
import { readRecords, withTempDir } from "../_helpers/fs.ts";

const MS = 1_000_000n;
const nowNs = () => BigInt(Date.now()) * MS;

async function ask(port: number, line: string): Promise<string> {
  return await converse(port, `${line}\n`);
}

async function lines(path: string): Promise<string[]> {
  try {
    // Without the zero tail a daemon with fsync on keeps (and leaves when killed).
    return (await readRecords(path)).split("\n").filter((l) => l !== "");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** Waits until the logfile holds a line matching `pattern` (it is written). */
function logged(logfile: string, pattern: RegExp) {
  return waitFor(
    async () => (await lines(logfile)).find((l) => pattern.test(l)),
    {
      what: `a record ${pattern}`,
      timeoutMs: 20_000,
    },
  );
}

Deno.test("SIGKILL while a job waits for its retry: after restart the attempt and history are as written, the retry runs once at its time", async () => {
  await withTempDir("ztick-crash-retry-", async (dir) => {
    const logfile = `${dir}/logfile`;
    const ran = `${dir}/ran`;
    const config = await writeConfig(dir, "ztick.toml");
    const first = await DaemonProcess.start(config);
    let planned: string;
    let historyBefore: string;
    try {
      assert.equal(
        await converse(
          first.port,
          `a RULE SET r j. retries=3 backoff=2s shell "echo x >> ${ran}; exit 1"\n` +
            `b SET j.1 ${nowNs()}\n`,
        ),
        "a OK\nb OK\n",
      );
      await logged(logfile, /^RUN j\.1 1 /);
      await logged(logfile, /^SET j\.1 \d+ planned attempt=2$/);
      planned = await ask(first.port, "g GET j.1");
      historyBefore = await ask(first.port, "h HISTORY j.1");
      assert.match(historyBefore, /^h 1 \d+ \d+ failed r exit:1\nh OK\n$/);
    } finally {
      assert.equal(await first.stop("SIGKILL"), 137);
    }
    await using second = await DaemonProcess.start(config);
    assert.equal(await ask(second.port, "g GET j.1"), planned);
    assert.equal(await ask(second.port, "h HISTORY j.1"), historyBefore);
    const retryNs = BigInt(planned.trim().split(" ")[3]!);
    const history = await waitFor(async () => {
      const answer = await ask(second.port, "h HISTORY j.1");
      return answer.split("\n").length === 4 ? answer : undefined;
    }, { what: "attempt 2", timeoutMs: 20_000 });
    const attempt2 = history.split("\n")[1]!.split(" ");
    assert.equal(attempt2[1], "2");
    assert.ok(BigInt(attempt2[2]!) >= retryNs, "the retry did not run early");
    assert.match(await ask(second.port, "g GET j.1"), /^g OK planned \d+\n$/);
    assert.deepEqual(await lines(ran), ["x", "x"], "each attempt ran once");
    assert.match(
      (await lines(logfile)).at(-2)!,
      /^SET j\.1 \d+ planned attempt=3$/,
    );
  });
});

Deno.test("SIGKILL while a retry runs: after restart the interrupted attempt runs again with its number, earlier attempts never", async () => {
  await withTempDir("ztick-crash-retry-", async (dir) => {
    const logfile = `${dir}/logfile`;
    const ran = `${dir}/ran`;
    const go = `${dir}/go`;
    // Attempt 1 fails at once; later attempts wait for `go`, then fail.
    const script = `n=$(cat ${ran} 2>/dev/null | wc -l); echo x >> ${ran}; ` +
      `[ "$n" -eq 0 ] && exit 1; while [ ! -e ${go} ]; do sleep 0.02; done; exit 2`;
    const config = await writeConfig(dir, "ztick.toml");
    const first = await DaemonProcess.start(config);
    let historyBefore: string;
    try {
      await converse(
        first.port,
        `a RULE SET r j. retries=2 backoff=100ms shell "${
          script.replaceAll('"', '\\"')
        }"\n` +
          `b SET j.1 ${nowNs()}\n`,
      );
      await logged(logfile, /^SET j\.1 \d+ triggered attempt=2$/);
      await waitFor(async () => (await lines(ran)).length === 2 || undefined);
      historyBefore = await ask(first.port, "h HISTORY j.1");
      assert.match(historyBefore, /^h 1 \d+ \d+ failed r exit:1\nh OK\n$/);
    } finally {
      assert.equal(await first.stop("SIGKILL"), 137);
    }
    await using second = await DaemonProcess.start(config);
    await second.waitForLog(/interrupted job j\.1 will run again/);
    await waitFor(async () => (await lines(ran)).length === 3 || undefined, {
      what: "the interrupted attempt to start again",
    });
    assert.match(
      await ask(second.port, "h HISTORY j.1"),
      /^h 1 \d+ \d+ failed r exit:1\nh 2 (\d+) \1 failed {2}interrupted\nh OK\n$/,
    );
    await Deno.writeTextFile(go, "");
    await waitFor(
      async () =>
        (await ask(second.port, "g GET j.1")).startsWith("g OK failed ") ||
        undefined,
      { what: "the last attempt to fail", timeoutMs: 20_000 },
    );
    const history = await ask(second.port, "h HISTORY j.1");
    assert.deepEqual(
      history.split("\n").slice(0, -2).map((line) => {
        const [, attempt, , , outcome, rule, detail] = line.split(" ");
        return `${attempt} ${outcome} ${rule} ${detail}`;
      }),
      [
        "1 failed r exit:1",
        "2 failed  interrupted",
        "2 failed r exit:2",
        "3 failed r exit:2",
      ],
    );
    // Attempt 1 once, attempt 2 twice (it was running), attempt 3 once.
    assert.equal((await lines(ran)).length, 4);
    assert.match(
      (await lines(logfile)).at(-2)!,
      /^SET j\.1 \d+ failed attempt=3$/,
    );
  });
});
