/** CRON read from a request line (spec: extensions.md §4). */
import assert from "node:assert/strict";
import { parseRequest } from "../../../src/protocol/request.ts";
import { renderAnswer } from "../../../src/protocol/answer.ts";

Deno.test("CRON reads a job, a quoted expression and tz=/catchup= in any order", () => {
  assert.deepEqual(
    parseRequest('r1 CRON backup.nightly "30 2 * * *" tz=Europe/Paris'),
    {
      kind: "command",
      requestId: "r1",
      command: {
        kind: "cron",
        jobId: "backup.nightly",
        schedule: {
          expression: "30 2 * * *",
          tz: "Europe/Paris",
          catchup: "once",
        },
      },
    },
  );
  const weekly = parseRequest("r2 CRON report.weekly @weekly catchup=skip");
  assert.equal(weekly.kind, "command");
  assert.deepEqual(weekly.kind === "command" && weekly.command, {
    kind: "cron",
    jobId: "report.weekly",
    schedule: { expression: "@weekly", tz: "UTC", catchup: "skip" },
  });
  const both = parseRequest(
    'r3 CRON a "*/5\t* * * * *" catchup=all "tz=Asia/Tokyo"',
  );
  assert.deepEqual(both.kind === "command" && both.command, {
    kind: "cron",
    jobId: "a",
    schedule: { expression: "*/5 * * * * *", tz: "Asia/Tokyo", catchup: "all" },
  });
  assert.equal(
    renderAnswer("r1", { kind: "done", committed: Promise.resolve() }),
    "r1 OK\n",
  );
});

Deno.test("CRON answers ERROR for every bad input of extensions.md §4", () => {
  for (
    const line of [
      "r1 CRON",
      "r1 CRON a",
      'r1 CRON "" @daily',
      'r1 CRON a ""',
      "r1 CRON a 0 2 * * *", // not quoted: surplus arguments
      'r1 CRON a "0 0 ? * *"',
      'r1 CRON a "0 0 L * *"',
      'r1 CRON a "0 0 * * 5#2"',
      "r1 CRON a @reboot",
      'r1 CRON a "@every 5m"',
      'r1 CRON a "0 0 1 1 * 2027 x"',
      'r1 CRON a "*/0 * * * *"',
      'r1 CRON a "5-1 * * * *"',
      'r1 CRON a "61 * * * *"',
      "r1 CRON a @daily tz=Nowhere/City",
      "r1 CRON a @daily tz=",
      "r1 CRON a @daily catchup=",
      "r1 CRON a @daily catchup=never",
      "r1 CRON a @daily retries=3",
      "r1 CRON a @daily tz=UTC tz=UTC",
      "r1 CRON a @daily catchup=all catchup=all",
      "r1 CRON a @daily extra",
      'r1 CRON a @daily tz="Europe/Paris"',
    ]
  ) {
    const request = parseRequest(line);
    assert.equal(request.kind, "invalid", line);
    assert.equal(request.kind === "invalid" && request.requestId, "r1", line);
  }
});
