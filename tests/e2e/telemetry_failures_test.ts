/**
 * A collector that is down, refusing, slow or failing never holds up the
 * daemon: requests are answered and jobs run while it misbehaves, each
 * failure is logged at debug, and the daemon still stops (spec:
 * configuration.md §6, observability.md §2). Nothing here asserts a time:
 * the daemon must answer while the collector is seen holding or refusing.
 */
import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { waitFor } from "../_helpers/client.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import {
  closedPort,
  type OtlpReceiver,
  type ReceiverMode,
  startOtlpReceiver,
} from "../_helpers/otlp_receiver.ts";
import { setUpLogging } from "../../src/log.ts";
import { Api } from "./_http.ts";

const ROUNDS = 100;
const FAILED =
  /^telemetry export failed: Cannot send "http:\/\/127\.0\.0\.1:\d+\/v1\/(traces|metrics|logs)": /;

/** Debug records of the test's daemon, kept while `fn` runs. */
async function withDebugLog<T>(
  fn: (lines: string[]) => Promise<T>,
): Promise<T> {
  const lines: string[] = [];
  setUpLogging("debug", (record: LogRecord) => {
    if (record.category[1] === "telemetry") {
      lines.push(String(record.message[0]));
    }
  });
  try {
    return await fn(lines);
  } finally {
    setUpLogging("off");
  }
}

/**
 * Starts a daemon exporting to `endpoint`, waits until `misbehaving` holds
 * (the collector holds a request, or a failure was logged), then has
 * {@link ROUNDS} TCP and HTTP requests answered and jobs run; returns the
 * debug lines of telemetry once the daemon stopped.
 */
async function answersWhile(
  endpoint: string,
  misbehaving: (lines: string[]) => boolean,
): Promise<string[]> {
  return await withDebugLog(async (lines) => {
    const daemon = await startTestDaemon({
      http: true,
      telemetry: { endpoint },
    });
    try {
      using tcp = await daemon.connect();
      const api = new Api(daemon.httpPort);
      assert.equal(
        await tcp.request("r0 RULE SET run run. shell true"),
        "r0 OK",
      );
      await waitFor(() => misbehaving(lines) || undefined, {
        what: "the collector to misbehave",
      });
      const now = BigInt(Date.now()) * 1_000_000n;
      for (let i = 0; i < ROUNDS; i++) {
        assert.equal(
          await tcp.request(`s${i} SET run.${i} ${now}`),
          `s${i} OK`,
        );
        assert.equal((await api.get(`/jobs/run.${i}`)).status, 200);
      }
      await waitFor(async () => {
        const stat = await tcp.request("q STAT");
        return new RegExp(`^q jobs_executed ${ROUNDS}$`, "m").test(stat) ||
          undefined;
      }, { what: "every job executed" });
      assert.ok(misbehaving(lines), "still misbehaving");
    } finally {
      await daemon[Symbol.asyncDispose]();
    }
    return lines;
  });
}

async function withReceiver(
  mode: ReceiverMode,
  fn: (receiver: OtlpReceiver) => Promise<void>,
): Promise<void> {
  await using receiver = startOtlpReceiver(mode);
  await fn(receiver);
}

Deno.test("a collector that accepts and never answers: requests answered and jobs run while it holds the exports", async () => {
  await withReceiver({ kind: "hang" }, async (receiver) => {
    const lines = await answersWhile(
      receiver.endpoint,
      () => receiver.pending > 0,
    );
    assert.ok(lines.some((line) => FAILED.test(line)), lines.join("\n"));
    assert.ok(lines.some((line) => /no answer within 2000 ms/.test(line)));
  });
});

Deno.test("a collector that answers after 10 s: requests answered and jobs run meanwhile", async () => {
  await withReceiver({ kind: "slow", delayMs: 10_000 }, async (receiver) => {
    const lines = await answersWhile(
      receiver.endpoint,
      () => receiver.pending > 0,
    );
    assert.ok(lines.some((line) => /no answer within 2000 ms/.test(line)));
  });
});

Deno.test("a collector that refuses connections: requests answered and jobs run, each failure logged at debug", async () => {
  const lines = await answersWhile(
    `http://127.0.0.1:${closedPort()}`,
    (lines) => lines.some((line) => FAILED.test(line)),
  );
  assert.ok(lines.some((line) => /refused/i.test(line)), lines.join("\n"));
});

Deno.test("a collector that answers 500: requests answered and jobs run; at most one failing export per signal and interval", async () => {
  await withReceiver({ kind: "status", status: 500 }, async (receiver) => {
    const startedMs = performance.now();
    const lines = await answersWhile(
      receiver.endpoint,
      (lines) => lines.some((line) => /HTTP 500/.test(line)),
    );
    assert.ok(lines.some((line) => FAILED.test(line)));
    const elapsedMs = performance.now() - startedMs;
    // Under this load the batch processors would export far more often;
    // refused, each signal tries once per 100 ms interval (+ the final flush).
    const posts = receiver.requests.length;
    assert.ok(posts > 0);
    assert.ok(posts <= 3 * (elapsedMs / 100 + 2), `${posts} POSTs`);
  });
});
