import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import type { Command } from "../../../src/domain/command.ts";
import type { Mutation } from "../../../src/domain/mutation.ts";
import { isFailure, type Result } from "../../../src/domain/result.ts";
import { renderAnswer } from "../../../src/protocol/answer.ts";
import { parseRequest } from "../../../src/protocol/request.ts";
import { JobStore } from "../../../src/scheduler/job_store.ts";
import { Scheduler } from "../../../src/scheduler/scheduler.ts";
import { SYSTEM_TIMER } from "../../../src/system_time.ts";
import { MetricsRegistry } from "../../../src/telemetry/registry.ts";
import {
  ControlledExecutor,
  ManualClock,
  RecordingJournal,
  settle,
} from "../../_helpers/doubles.ts";

const T0 = 1_775_008_800_000_000_000n;
const SECOND = 1_000_000_000n;

function command(line: string): Command {
  const request = parseRequest(`r ${line}`);
  if (request.kind !== "command") throw new Error(`bad test line ${line}`);
  return request.command;
}

/** The reply shape these tests read, made from a command's result. */
type Reply =
  | {
    readonly ok: true;
    readonly body?: string;
    readonly lines?: readonly string[];
    readonly committed?: Promise<void>;
  }
  | { readonly ok: false; readonly reason: string };

function toReply(result: Result): Reply {
  if (isFailure(result)) return { ok: false, reason: result.reason };
  if (result.kind === "done") return { ok: true, committed: result.committed };
  const lines = renderAnswer("r", result).split("\n").slice(0, -1)
    .map((line) => line.slice(2));
  const last = lines.pop()!;
  if (result.kind === "job") return { ok: true, body: last.slice(3) };
  return { ok: true, lines };
}

function setUp(
  options: { concurrency?: number; onInterrupted?: "rerun" | "fail" } = {},
) {
  const clock = new ManualClock(T0);
  const journal = new RecordingJournal();
  const executor = new ControlledExecutor();
  const store = new JobStore();
  const scheduler = new Scheduler({
    store,
    clock,
    timer: SYSTEM_TIMER,
    journal,
    executor,
    metrics: new MetricsRegistry(),
    stat: () => [],
    concurrency: options.concurrency ?? 16,
    timeoutMs: 0,
    onInterrupted: options.onInterrupted ?? "rerun",
  });
  const restore = (mutation: Mutation) => store.apply(mutation);
  const run = (line: string, namespace?: string): Reply =>
    toReply(scheduler.handle(command(line), namespace));
  const get = (id: string) => {
    const reply = run(`GET ${id}`);
    return reply.ok ? reply.body : "ERROR";
  };
  return { clock, journal, executor, scheduler, run, get, restore };
}

Deno.test("Scheduler fires nothing before its time and the job when it is due", async () => {
  const { clock, executor, scheduler, run, get } = setUp();
  run("RULE SET r b. shell true");
  run(`SET b.1 ${T0 + SECOND}`);
  scheduler.tick();
  await settle();
  assert.equal(executor.started.length, 0);
  clock.ns = T0 + SECOND - 1n;
  scheduler.tick();
  await settle();
  assert.equal(get("b.1"), `planned ${T0 + SECOND}`);
  clock.ns = T0 + SECOND;
  scheduler.tick();
  await settle();
  assert.equal(get("b.1"), `triggered ${T0 + SECOND}`);
  assert.equal(executor.started.length, 1);
  assert.equal(executor.started[0]!.execution.rule.id, "r");
  executor.started[0]!.finish({ ok: true, detail: "exit:0" });
  await settle();
  assert.equal(get("b.1"), `executed ${T0 + SECOND}`);
});

Deno.test("Scheduler handles due jobs in ascending time, ties in SET order", async () => {
  const { clock, executor, scheduler, run } = setUp();
  run("RULE SET r '' shell true".replace("''", '""'));
  run(`SET c ${T0 + 2n}`);
  run(`SET a ${T0 + 1n}`);
  run(`SET z ${T0 + 1n}`);
  run(`SET b ${T0 + 1n}`);
  clock.ns = T0 + 5n;
  scheduler.tick();
  await settle();
  assert.deepEqual(executor.started.map((s) => s.execution.job.id), [
    "a",
    "z",
    "b",
    "c",
  ]);
});

Deno.test("Scheduler fails a due job without a rule, and a later rule does not revive it", async () => {
  const { executor, scheduler, run, get, journal } = setUp();
  run(`SET lonely ${T0}`);
  scheduler.tick();
  await settle();
  assert.equal(get("lonely"), `failed ${T0}`);
  run("RULE SET r lonely shell true");
  scheduler.tick();
  await settle();
  assert.equal(get("lonely"), `failed ${T0}`);
  assert.equal(executor.started.length, 0);
  assert.deepEqual(journal.records.at(-3), {
    kind: "set",
    job: { id: "lonely", executionNs: T0, status: "failed" },
  });
  assert.deepEqual(journal.records.at(-2), {
    kind: "run",
    run: {
      jobId: "lonely",
      attempt: 1,
      startedNs: T0,
      endedNs: T0,
      outcome: "failed",
      ruleId: "",
      detail: "no-rule",
      message: "no rule matches",
    },
  });
});

Deno.test("Scheduler records planned, triggered and the outcome, in that order", async () => {
  const { executor, scheduler, run, journal } = setUp();
  run("RULE SET r j shell true");
  run(`SET j ${T0}`);
  scheduler.tick();
  await settle();
  executor.started[0]!.finish({
    ok: false,
    reason: "exit 1",
    detail: "exit:1",
  });
  await settle();
  const statuses = journal.records.flatMap((r) =>
    r.kind === "set" ? [r.job.status] : []
  );
  assert.deepEqual(statuses, ["planned", "triggered", "failed"]);
});

Deno.test("Scheduler discards the outcome of a job re-SET or removed while it ran, keeping the re-SET one's run", async () => {
  const { executor, scheduler, run, get, journal } = setUp();
  run("RULE SET r j shell true");
  run(`SET j.1 ${T0}`);
  run(`SET j.2 ${T0}`);
  scheduler.tick();
  await settle();
  run(`SET j.1 ${T0 + SECOND}`);
  run("REMOVE j.2");
  const recorded = journal.records.length;
  for (const started of executor.started) {
    started.finish({ ok: true, detail: "exit:0" });
  }
  await settle();
  assert.equal(get("j.1"), `planned ${T0 + SECOND}`);
  assert.equal(get("j.2"), "ERROR");
  assert.deepEqual(
    journal.records.slice(recorded).map((r) =>
      r.kind === "run" ? `${r.run.jobId} ${r.run.outcome}` : r.kind
    ),
    ["j.1 executed"],
  );
});

Deno.test("Scheduler runs at most `concurrency` executions and queues the rest FIFO", async () => {
  const { executor, scheduler, run } = setUp({ concurrency: 2 });
  run('RULE SET r "" shell true');
  for (const id of ["a", "b", "c", "d"]) run(`SET ${id} ${T0}`);
  scheduler.tick();
  await settle();
  assert.equal(executor.started.length, 2);
  assert.deepEqual(scheduler.stats().executionsPending, 2);
  assert.deepEqual(scheduler.stats().executionsInflight, 2);
  executor.started[1]!.finish({ ok: true, detail: "exit:0" });
  await settle();
  assert.deepEqual(executor.started.map((s) => s.execution.job.id), [
    "a",
    "b",
    "c",
  ]);
});

Deno.test("Scheduler uses the runner captured at trigger time", async () => {
  const { executor, scheduler, run } = setUp();
  run("RULE SET r j shell first");
  run(`SET j ${T0}`);
  scheduler.tick();
  await settle();
  run("RULE SET r j shell second");
  const runner = executor.started[0]!.execution.rule.runner;
  assert.deepEqual(runner, { kind: "shell", command: "first" });
});

Deno.test("Scheduler re-runs interrupted jobs at start, or fails them", async () => {
  for (const mode of ["rerun", "fail"] as const) {
    const { executor, scheduler, get, restore } = setUp({
      onInterrupted: mode,
    });
    restore({
      kind: "ruleSet",
      rule: {
        id: "r",
        pattern: "",
        runner: { kind: "shell", command: "true" },
      },
    });
    restore({
      kind: "set",
      job: { id: "x", executionNs: T0 + 100n * SECOND, status: "triggered" },
    });
    restore({
      kind: "set",
      job: { id: "done", executionNs: T0, status: "executed" },
    });
    scheduler.settleInterrupted();
    scheduler.start();
    await settle();
    await scheduler.stop(0);
    if (mode === "rerun") {
      assert.deepEqual(executor.started.map((s) => s.execution.job.id), ["x"]);
    } else {
      assert.equal(executor.started.length, 0);
      assert.equal(get("x"), `failed ${T0 + 100n * SECOND}`);
    }
    assert.equal(get("done"), `executed ${T0}`);
  }
});

Deno.test("Scheduler answers per namespace (spec: protocol.md §8)", () => {
  const { run } = setUp();
  assert.equal(run(`SET deploy.a ${T0}`, "deploy.").ok, true);
  assert.equal(run(`SET deployX.a ${T0}`, "deploy.").ok, false);
  assert.equal(run(`SET backup.a ${T0}`).ok, true);
  assert.equal(run("GET backup.a", "deploy.").ok, false);
  assert.equal(run("REMOVE backup.a", "deploy.").ok, false);
  const query = run("QUERY", "deploy.");
  assert.deepEqual(query.ok && query.lines, [`deploy.a planned ${T0}`]);
  assert.equal(run("RULE SET deploy.r deploy. shell true", "deploy.").ok, true);
  assert.equal(
    run("RULE SET deploy.r2 backup. shell true", "deploy.").ok,
    false,
  );
  assert.equal(run('RULE SET deploy.r3 "" shell true', "deploy.").ok, false);
  assert.equal(run("RULE SET other deploy. shell true", "deploy.").ok, false);
  assert.equal(run("RULE SET admin.r x shell true").ok, true);
  const rules = run("LISTRULES", "deploy.");
  assert.deepEqual(rules.ok && rules.lines, ["deploy.r deploy. shell true"]);
  assert.equal(run("REMOVERULE admin.r", "deploy.").ok, false);
  assert.equal(run("REMOVERULE deploy.r", "deploy.").ok, true);
});

Deno.test("Scheduler undoes a mutation whose record could not be committed", async () => {
  const { run, get, journal } = setUp();
  run(`SET a ${T0}`);
  journal.failNext = true;
  const reply = run(`SET a ${T0 + SECOND}`);
  assert.ok(reply.ok);
  await assert.rejects(reply.committed!);
  assert.equal(get("a"), `planned ${T0}`);
  assert.equal(run(`SET b ${T0}`).ok, false, "read-only refuses mutations");
});

Deno.test("Scheduler holds due jobs while the journal is read-only", async () => {
  const { scheduler, run, get, journal, executor } = setUp();
  run("RULE SET r a shell true");
  run(`SET a ${T0}`);
  journal.writable = false;
  scheduler.tick();
  await settle();
  assert.equal(get("a"), `planned ${T0}`);
  journal.writable = true;
  scheduler.tick();
  await settle();
  assert.equal(executor.started.length, 1);
});

/** Lets `setImmediate` callbacks run `rounds` times, no timer involved. */
async function immediates(rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

Deno.test("Scheduler polls the last 2 ms before a job is due instead of sleeping", async () => {
  const { clock, scheduler, run, executor } = setUp();
  run("RULE SET r a shell true");
  run(`SET a ${T0 + 1_500_000n}`); // due in 1.5 ms
  scheduler.start();
  try {
    await immediates(20);
    assert.equal(executor.started.length, 0);
    clock.ns = T0 + 1_500_000n;
    // Seen due at the next poll: no timer (at least 1 ms) has to fire.
    await immediates(20);
    assert.equal(executor.started.length, 1);
  } finally {
    await scheduler.stop(0);
  }
});

Deno.test("Scheduler sleeps on a timer when the next job is further than 2 ms away", async () => {
  const { clock, scheduler, run, executor } = setUp();
  run("RULE SET r a shell true");
  run(`SET a ${T0 + 5n * SECOND}`); // due in 5 s
  scheduler.start();
  try {
    clock.ns = T0 + 5n * SECOND;
    await immediates(20);
    assert.equal(executor.started.length, 0, "no poll while far from due");
  } finally {
    await scheduler.stop(0);
  }
});
