/**
 * Every example of the user guide (shared/seed/creating-jobs.txt) and of
 * protocol.md §11, run as written — the `socat` pipelines through a real
 * shell, the Python client through python3 — against a real daemon. Only
 * the port changes; answers are checked byte for byte. The guide's GET and
 * QUERY answers show 1743303600000000000 and 1743390000000000000, which are
 * not the times it set: the corrected values are asserted.
 */
import assert from "node:assert/strict";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { brokerGate } from "../_helpers/brokers.ts";
import { ManualClock } from "../_helpers/doubles.ts";
import { waitFor } from "../_helpers/client.ts";

const BEFORE_EXAMPLES = 1_767_225_600_000_000_000n; // 2026-01-01 UTC

async function has(program: string): Promise<boolean> {
  const { code } = await new Deno.Command("sh", {
    args: ["-c", `command -v ${program}`],
    stdout: "null",
  })
    .output();
  return code === 0;
}

const socat = brokerGate("socat on PATH", await has("socat"));
const python = brokerGate("python3 on PATH", await has("python3"));

/** Runs a shell snippet from the guide with the daemon's port in place of 5678. */
async function shell(port: number, script: string): Promise<string> {
  const output = await new Deno.Command("bash", {
    args: ["-c", script.replaceAll("localhost:5678", `127.0.0.1:${port}`)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(output.code, 0, script);
  return new TextDecoder().decode(output.stdout);
}

function guideTest(
  name: string,
  fn: (port: number) => Promise<void>,
  clock = true,
) {
  Deno.test({
    name: `guide: ${name}${socat.suffix}`,
    ignore: socat.ignore,
    async fn() {
      await using d = await startTestDaemon({
        persistence: "memory",
        ...(clock ? { clock: new ManualClock(BEFORE_EXAMPLES) } : {}),
      });
      await fn(d.port);
    },
  });
}

guideTest("Basic Job Creation", async (port) => {
  assert.equal(
    await shell(
      port,
      "echo 'req-1 SET backup.daily 2026-04-01 02:00:00' | socat - TCP:localhost:5678",
    ),
    "req-1 OK\n",
  );
});

guideTest(
  "Timestamp Formats: datetime and integer nanoseconds",
  async (port) => {
    assert.equal(
      await shell(
        port,
        "echo 'r1 SET my.job 2026-04-01 14:30:00' | socat - TCP:localhost:5678",
      ),
      "r1 OK\n",
    );
    assert.equal(
      await shell(port, "echo 'r1 GET my.job' | socat - TCP:localhost:5678"),
      "r1 OK planned 1775053800000000000\n",
    );
    assert.equal(
      await shell(
        port,
        "echo 'r1 SET my.job 1711612800000000000' | socat - TCP:localhost:5678",
      ),
      "r1 OK\n",
    );
  },
);

guideTest(
  "Bash with Nanosecond Timestamp: a job due now runs at once",
  async (port) => {
    assert.equal(
      await shell(
        port,
        `TIMESTAMP=$(python3 -c "import time; print(int(time.time() * 1_000_000_000))")
echo "r1 SET my.job.1 $TIMESTAMP" | socat - TCP:localhost:5678`,
      ),
      "r1 OK\n",
    );
    // No rule covers my.job.1: it fails when due (the guide's Tips).
    await waitFor(async () =>
      (await shell(port, "echo 'r1 GET my.job.1' | socat - TCP:localhost:5678"))
        .startsWith("r1 OK failed ") ||
      undefined
    );
  },
  false,
);

guideTest(
  "Jobs and Rules: rule first, then a job; the rule runs when it is due",
  async (port) => {
    const dir = await Deno.makeTempDir();
    try {
      const script = `${dir}/backup.sh`;
      await Deno.writeTextFile(
        script,
        `#!/bin/sh\necho "backed up $ZTICK_JOB_ID" > ${dir}/done\n`,
        { mode: 0o755 },
      );
      assert.equal(
        await shell(
          port,
          `echo 'r1 RULE SET rule.backup backup. shell ${script}' | socat - TCP:localhost:5678
echo "r2 SET backup.daily $(date -u +'%Y-%m-%d %H:%M:%S')" | socat - TCP:localhost:5678`,
        ),
        "r1 OK\nr2 OK\n",
      );
      await waitFor(async () =>
        (await shell(
          port,
          "echo 'r1 GET backup.daily' | socat - TCP:localhost:5678",
        )).startsWith("r1 OK executed ") ||
        undefined
      );
      assert.equal(
        await Deno.readTextFile(`${dir}/done`),
        "backed up backup.daily\n",
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
  false,
);

guideTest("Updating a Job reschedules it", async (port) => {
  await shell(
    port,
    "echo 'r0 SET my.job.1 2026-04-01 14:00:00' | socat - TCP:localhost:5678",
  );
  assert.equal(
    await shell(
      port,
      "echo 'r1 SET my.job.1 2026-04-02 08:00:00' | socat - TCP:localhost:5678",
    ),
    "r1 OK\n",
  );
  assert.equal(
    await shell(port, "echo 'r1 GET my.job.1' | socat - TCP:localhost:5678"),
    "r1 OK planned 1775116800000000000\n",
  );
});

guideTest("Batch Operations over one connection", async (port) => {
  assert.equal(
    await shell(
      port,
      `{
  echo 'r1 SET job.1 2026-04-01 08:00:00'
  echo 'r2 SET job.2 2026-04-01 09:00:00'
  echo 'r3 SET job.3 2026-04-01 10:00:00'
} | socat - TCP:localhost:5678`,
    ),
    "r1 OK\nr2 OK\nr3 OK\n",
  );
});

guideTest("Checking Job State with GET (corrected timestamp)", async (port) => {
  await shell(
    port,
    "echo 'req-1 SET backup.daily 2026-04-01 02:00:00' | socat - TCP:localhost:5678",
  );
  assert.equal(
    await shell(
      port,
      "echo 'r1 GET backup.daily' | socat - TCP:localhost:5678",
    ),
    "r1 OK planned 1775008800000000000\n",
  );
  assert.equal(
    await shell(port, "echo 'r1 GET no.such.job' | socat - TCP:localhost:5678"),
    "r1 ERROR\n",
  );
});

guideTest("Searching Jobs with QUERY (corrected timestamps)", async (port) => {
  await shell(
    port,
    `{ echo 'a SET backup.daily 2026-04-01 02:00:00'; echo 'b SET backup.weekly 2026-04-08 02:00:00'; echo 'c SET mail.x 2026-04-08 02:00:00'; } | socat - TCP:localhost:5678`,
  );
  const answer = await shell(
    port,
    "echo 'r1 QUERY backup.' | socat - TCP:localhost:5678",
  );
  assert.ok(answer.endsWith("r1 OK\n"));
  assert.deepEqual(answer.split("\n").sort(), [
    "",
    "r1 OK",
    "r1 backup.daily planned 1775008800000000000",
    "r1 backup.weekly planned 1775613600000000000",
  ]);
  const all = await shell(port, "echo 'r1 QUERY' | socat - TCP:localhost:5678");
  assert.equal(all.split("\n").length, 5);
});

guideTest("Removing a Job, then removing it again", async (port) => {
  await shell(
    port,
    "echo 'a SET backup.daily 2026-04-01 02:00:00' | socat - TCP:localhost:5678",
  );
  assert.equal(
    await shell(
      port,
      "echo 'r1 REMOVE backup.daily' | socat - TCP:localhost:5678",
    ),
    "r1 OK\n",
  );
  assert.equal(
    await shell(
      port,
      "echo 'r1 REMOVE backup.daily' | socat - TCP:localhost:5678",
    ),
    "r1 ERROR\n",
  );
});

Deno.test({
  name: `guide: the Python client prints r1 OK${python.suffix}`,
  ignore: python.ignore,
  async fn() {
    await using d = await startTestDaemon({
      persistence: "memory",
      clock: new ManualClock(BEFORE_EXAMPLES),
    });
    const client = `
import socket
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.connect(('127.0.0.1', ${d.port}))
# Schedule a job with datetime
sock.send(b'r1 SET my.job.1 2026-04-01 14:00:00\\n')
response = sock.recv(1024).decode()
print(response) # r1 OK
sock.close()
`;
    const output = await new Deno.Command("python3", {
      args: ["-c", client],
      stdout: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(output.stdout), "r1 OK\n\n");
  },
});
