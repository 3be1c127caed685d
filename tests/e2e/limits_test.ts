/**
 * Abuse limits: the connection cap (explicit and derived from the open-file
 * limit) and TCP back-pressure against a client that never reads (idle
 * clients, random bytes and the failed-AUTH delay are in limits_idle_test.ts).
 */
import assert from "node:assert/strict";
import { TestClient, waitFor } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { DAEMON_PERMISSIONS, DaemonProcess } from "../_helpers/subprocess.ts";
import { connectRaw, readToClose, sendAll } from "./_security.ts";
import {
  FAR_FUTURE_NS,
  MAIN,
  MEMORY_CONFIG,
  readProc,
  rssKib,
  statOnNewConnection,
  tempConfig,
} from "./_limits.ts";

Deno.test("the connection cap holds: extra clients are closed at once, earlier ones still answered", async () => {
  await using d = await startTestDaemon({
    persistence: "memory",
    maxConnections: 5,
  });
  const clients: TestClient[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const client = await TestClient.connect(d.port);
      clients.push(client);
      assert.equal(await client.request(`c${i} GET none`), `c${i} ERROR`);
    }
    for (let i = 0; i < 3; i++) {
      using extra = await connectRaw(d.port);
      const started = performance.now();
      await sendAll(extra, "x STAT\n");
      const { text, afterMs } = await readToClose(extra, started);
      assert.equal(text, "", "an extra client got an answer");
      assert.ok(afterMs < 1000, `extra client closed after ${afterMs} ms`);
    }
    for (const [i, client] of clients.entries()) {
      const stat = await client.request(`s${i} STAT`);
      assert.match(stat, new RegExp(`^s${i} connections 5$`, "m"));
    }
    // Once a client leaves, its slot is free again.
    clients.shift()![Symbol.dispose]();
    const answer = await waitFor(async () => {
      using client = await TestClient.connect(d.port);
      try {
        return await client.request("n GET none");
      } catch {
        return undefined; // refused: the daemon has not seen the EOF yet
      }
    }, { what: "a free connection slot" });
    assert.equal(answer, "n ERROR");
  } finally {
    for (const client of clients) client[Symbol.dispose]();
  }
});

Deno.test("the default cap follows the open-file limit and is logged before readiness", async () => {
  await using config = await tempConfig(MEMORY_CONFIG);
  // Unrestricted here: 10,000 (unless this machine's own limit is lower).
  {
    await using daemon = await DaemonProcess.start(config.path);
    const limits = await readProc(daemon.pid, "limits");
    const soft = Number(limits.match(/^Max open files\s+(\d+)/m)![1]);
    const expected = Math.min(10_000, soft - 64);
    const log = daemon.log;
    const capAt = log.indexOf(`[INFO] max connections: ${expected}\n`);
    assert.ok(capAt !== -1, log);
    assert.ok(capAt < log.indexOf("[INFO] listening on "), log);
    assert.ok(log.trimEnd().endsWith(`listening on 127.0.0.1:${daemon.port}`));
  }
  // Limit lowered to 300 descriptors (soft and hard): 236 connections.
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'ulimit -n 300 && exec "$0" "$@"',
      Deno.execPath(),
      "run",
      "-q",
      ...DAEMON_PERMISSIONS,
      MAIN,
      "-c",
      config.path,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  try {
    const decoder = new TextDecoder();
    const reader = child.stderr.getReader();
    try {
      while (!/listening on \S+:(\d+)\n/.test(log)) {
        const { value, done } = await reader.read();
        if (done) break;
        log += decoder.decode(value, { stream: true });
      }
    } finally {
      reader.releaseLock();
    }
    assert.match(
      log,
      /\[INFO\] max connections: 236\n(.*\n)*\[INFO\] listening on /,
    );
    const port = Number(log.match(/listening on \S+:(\d+)\n/)![1]);
    // The cap holds below the descriptor limit: 260 clients, the daemon
    // keeps answering and never runs out of descriptors.
    const conns: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 260; i++) conns.push(await connectRaw(port));
      using first = TestClient.wrap(conns.shift()!);
      await waitFor(async () => {
        const stat = await first.request("s STAT");
        return /^s connections 236$/m.test(stat) ? true : undefined;
      }, { what: "236 open connections" });
      // The 24 beyond the cap were closed without an answer.
      const ends = await Promise.all(
        conns.slice(-24).map((c) => readToClose(c)),
      );
      assert.deepEqual(ends.map((end) => end.text), Array(24).fill(""));
    } finally {
      for (const conn of conns) conn.close();
    }
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stderr.cancel().catch(() => {});
  }
});

Deno.test("50 MB of pipelined SETs from a client that never reads: memory stays bounded, others answered", async () => {
  await using config = await tempConfig(MEMORY_CONFIG);
  await using daemon = await DaemonProcess.start(config.path);
  // Long request ids make the answers about as large as the requests, so
  // the answers cannot all hide in the kernel's socket buffers.
  const id = "r".repeat(100);
  let chunkText = "";
  for (let i = 0; chunkText.length < 1024 * 1024 - 200; i++) {
    chunkText += `${id}${i} SET big.${i % 64} ${FAR_FUTURE_NS}\n`;
  }
  const chunk = new TextEncoder().encode(chunkText);
  const linesPerChunk = chunkText.split("\n").length - 1;
  const chunks = Math.ceil((50 * 1024 * 1024) / chunk.length);

  assert.match((await statOnNewConnection(daemon.port)).answer, /s OK$/);
  const rssBeforeKib = await rssKib(daemon.pid);

  using hog = await connectRaw(daemon.port);
  let written = 0;
  const writing = (async () => {
    for (let i = 0; i < chunks; i++) {
      await sendAll(hog, chunk);
      written += chunk.length;
    }
  })();
  writing.catch(() => {}); // reported by the awaits below
  // Wait until the writer is stalled by TCP back-pressure: no progress
  // for 500 ms. If it gets through all 50 MB, the daemon buffered answers.
  let last = -1;
  let stalledAt = 0;
  await waitFor(async () => {
    if (written === chunks * chunk.length) return true;
    if (written === last) return true;
    last = written;
    await new Promise((resolve) => setTimeout(resolve, 500));
    return undefined;
  }, { timeoutMs: 30_000, intervalMs: 0, what: "the writer to stall" });
  stalledAt = written;
  assert.ok(
    stalledAt < chunks * chunk.length,
    "the daemon read 50 MB without its answers being read",
  );
  const rssStalledKib = await rssKib(daemon.pid);
  const other = await statOnNewConnection(daemon.port);
  assert.match(other.answer, /^s connections 2$/m); // the hog and this one
  assert.ok(other.ms < 2000, `the other client waited ${other.ms} ms`);

  // Now read: everything flows, every line is answered, in order.
  const reading = (async () => {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(1 << 20);
    let answered = 0;
    let tail = "";
    let peakKib = 0;
    let sampled = 0;
    const expected = chunks * linesPerChunk;
    while (answered < expected) {
      const n = await hog.read(buffer);
      if (n === null) break;
      const text = tail + decoder.decode(buffer.subarray(0, n), {
        stream: true,
      });
      const lines = text.split("\n");
      tail = lines.pop()!;
      for (const line of lines) {
        assert.ok(line.endsWith(" OK"), line);
        answered++;
      }
      if (answered - sampled > 20_000) {
        sampled = answered;
        peakKib = Math.max(peakKib, await rssKib(daemon.pid));
      }
    }
    return { answered, peakKib };
  })();
  await writing;
  const { answered, peakKib } = await reading;
  assert.equal(answered, chunks * linesPerChunk);
  const rssAfterKib = await rssKib(daemon.pid);
  const hwmKib = await rssKib(daemon.pid, "VmHWM");
  // The measurement is part of the result: shown in the test output.
  // deno-lint-ignore no-console
  console.log(
    `[limits] 50 MB pipelined (${
      chunks * linesPerChunk
    } SETs): writer stalled after ${(stalledAt / 2 ** 20).toFixed(1)} MiB; ` +
      `daemon RSS before ${rssBeforeKib} KiB, stalled ${rssStalledKib} KiB, ` +
      `peak while draining ${peakKib} KiB, after ${rssAfterKib} KiB, ` +
      `VmHWM ${hwmKib} KiB; other client answered in ${other.ms.toFixed(0)} ms`,
  );
  // Bounded: nowhere near the 50 MB sent (the answers total ~40 MB).
  assert.ok(
    rssStalledKib - rssBeforeKib < 32 * 1024,
    `RSS grew by ${rssStalledKib - rssBeforeKib} KiB while stalled`,
  );
  // Draining runs ~400k SETs; how much garbage V8 keeps before collecting
  // depends on the machine's load, so this bound is loose on purpose.
  assert.ok(
    hwmKib - rssBeforeKib < 128 * 1024,
    `peak RSS grew by ${hwmKib - rssBeforeKib} KiB`,
  );
  assert.match(
    (await statOnNewConnection(daemon.port)).answer,
    /^s jobs_total 64$/m,
  );
});

Deno.test("64 KiB of pipelined QUERYs over many jobs are answered in bounded memory", async () => {
  await using config = await tempConfig(MEMORY_CONFIG);
  await using daemon = await DaemonProcess.start(config.path);
  const jobs = 500;
  const queries = 8192; // "q QUERY\n" × 8192 = one 64 KiB read
  using client = await TestClient.connect(daemon.port);
  let setup = "";
  for (let i = 0; i < jobs; i++) {
    setup += `s SET some.job.number.${i} ${FAR_FUTURE_NS}\n`;
  }
  await client.send(setup);
  for (let i = 0; i < jobs; i++) assert.equal(await client.readLine(), "s OK");
  const rssBeforeKib = await rssKib(daemon.pid);

  // ~190 MB of answers to one chunk; nobody reads them for now.
  await client.send("q QUERY\n".repeat(queries));
  let last = -1;
  const stalledKib = await waitFor(async () => {
    const rss = await rssKib(daemon.pid);
    if (Math.abs(rss - last) < 1024) return rss;
    last = rss;
    await new Promise((resolve) => setTimeout(resolve, 300));
    return undefined;
  }, { timeoutMs: 15_000, intervalMs: 0, what: "the daemon's RSS to settle" });
  assert.ok(
    stalledKib - rssBeforeKib < 64 * 1024,
    `RSS grew by ${stalledKib - rssBeforeKib} KiB for unread answers`,
  );
  const other = await statOnNewConnection(daemon.port);
  assert.match(other.answer, /^s jobs_total 500$/m);

  let lines = 0;
  for (let answered = 0; answered < queries;) {
    const line = await client.readLine();
    assert.ok(line !== undefined, "EOF before every QUERY was answered");
    lines++;
    if (line === "q OK") answered++;
  }
  assert.equal(lines, queries * (jobs + 1));
});
