/** SET records of recurring jobs (spec: extensions.md §5). */
import assert from "node:assert/strict";
import type { Job } from "../../../src/domain/job.ts";
import { parseSchedule } from "../../../src/domain/schedule.ts";
import { formatRecord, parseRecord } from "../../../src/persistence/record.ts";
import { formatJson } from "../../../src/persistence/record_json.ts";

const NIGHTLY: Job = {
  id: "backup.nightly",
  executionNs: 1775010600000000000n,
  status: "planned",
  schedule: parseSchedule("30 2 * * *", { tz: "Europe/Paris" }),
};
const RETRYING: Job = {
  id: "hook.weekly",
  executionNs: 1775010610000000000n,
  status: "triggered",
  attempt: 2,
  schedule: parseSchedule("@weekly", { catchup: "all" }),
  occurrenceNs: 1775010600000000000n,
};

Deno.test({
  name:
    "a recurring job's SET record carries cron=, tz=, catchup= (quoted as a whole when needed), then occurrence= when it differs",
  permissions: "none",
  fn() {
    const nightly =
      'SET backup.nightly 1775010600000000000 planned "cron=30 2 * * *" tz=Europe/Paris catchup=once';
    assert.equal(formatRecord({ kind: "set", job: NIGHTLY }), nightly);
    assert.deepEqual(parseRecord(nightly), { kind: "set", job: NIGHTLY });
    const retrying =
      "SET hook.weekly 1775010610000000000 triggered attempt=2 cron=@weekly tz=UTC catchup=all occurrence=1775010600000000000";
    assert.equal(formatRecord({ kind: "set", job: RETRYING }), retrying);
    assert.deepEqual(parseRecord(retrying), { kind: "set", job: RETRYING });
    // read back, the schedule is the shared one
    const parsed = parseRecord(nightly);
    assert.equal(
      parsed?.kind === "set" && parsed.job.schedule,
      NIGHTLY.schedule,
    );
    // occurrence equal to the execution time is not kept
    assert.deepEqual(
      parseRecord(
        "SET a 5 planned cron=@daily tz=UTC catchup=once occurrence=5",
      ),
      {
        kind: "set",
        job: {
          id: "a",
          executionNs: 5n,
          status: "planned",
          schedule: parseSchedule("@daily"),
        },
      },
    );
  },
});

Deno.test({
  name: "dump json: cron, tz, catchup and occurrence after status and attempt",
  permissions: "none",
  fn() {
    assert.equal(
      formatJson({ kind: "set", job: NIGHTLY }),
      '{"type":"set","identifier":"backup.nightly","execution":1775010600000000000,"status":"planned","cron":"30 2 * * *","tz":"Europe/Paris","catchup":"once"}',
    );
    assert.equal(
      formatJson({ kind: "set", job: RETRYING }),
      '{"type":"set","identifier":"hook.weekly","execution":1775010610000000000,"status":"triggered","attempt":2,"cron":"@weekly","tz":"UTC","catchup":"all","occurrence":1775010600000000000}',
    );
  },
});

Deno.test({
  name: "a corrupt recurring SET record is a SyntaxError",
  permissions: "none",
  fn() {
    for (
      const line of [
        "SET a 5 planned cron=@daily",
        "SET a 5 planned cron=@daily tz=UTC",
        "SET a 5 planned tz=UTC catchup=once",
        "SET a 5 planned occurrence=4",
        "SET a 5 planned cron=@daily tz=UTC catchup=once occurrence=x",
        "SET a 5 planned cron=@daily tz=UTC catchup=never",
        "SET a 5 planned cron=@daily tz=Nowhere/City catchup=once",
        'SET a 5 planned "cron=0 0 L * *" tz=UTC catchup=once',
        "SET a 5 planned cron=@daily tz=UTC catchup=once cron=@daily",
        "SET a 5 planned cron=@daily tz=UTC catchup=once extra=1",
      ]
    ) assert.throws(() => parseRecord(line), SyntaxError, line);
  },
});
