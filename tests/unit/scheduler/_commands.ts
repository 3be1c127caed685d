/** The command layer over a fresh store, and comparable forms of its state and results, shared by the commands tests. */
import type { Command } from "../../../src/domain/command.ts";
import type { Job } from "../../../src/domain/job.ts";
import type { Mutation } from "../../../src/domain/mutation.ts";
import type { Result, StatEntry } from "../../../src/domain/result.ts";
import type { Rule } from "../../../src/domain/rule.ts";
import { parseRequest } from "../../../src/protocol/request.ts";
import { Commands } from "../../../src/scheduler/commands.ts";
import { JobStore } from "../../../src/scheduler/job_store.ts";
import type { Journal } from "../../../src/scheduler/ports.ts";
import { UndoLog } from "../../../src/scheduler/undo_log.ts";
import { MetricsRegistry } from "../../../src/telemetry/registry.ts";
import { ManualClock, RecordingJournal } from "../../_helpers/doubles.ts";

export const T1 = 1_775_008_800_000_000_000n;
export const T2 = T1 + 1_000_000_000n;
export const T3 = T2 + 1_000_000_000n;
export const STATS: StatEntry[] = [["uptime_ns", 5n], ["connections", 1]];

/** A journal whose appends gather in one group until the test cuts it. */
export class GroupJournal implements Journal {
  writable = true;
  readonly records: Mutation[] = [];
  #group: PromiseWithResolvers<void> | undefined;

  append(mutation: Mutation): Promise<void> {
    this.records.push(mutation);
    this.#group ??= Promise.withResolvers<void>();
    return this.#group.promise;
  }

  /** Ends the open group: later appends start a new one. */
  cut(): PromiseWithResolvers<void> {
    const group = this.#group ?? Promise.withResolvers<void>();
    this.#group = undefined;
    return group;
  }
}

/** A command layer over a fresh store, with `journal`. */
/** What the tests drive: the command layer and what it works on. */
export interface SetUp<J extends Journal> {
  readonly store: JobStore;
  readonly metrics: MetricsRegistry;
  readonly commands: Commands;
  run(line: string, namespace?: string): Result;
  readonly journal: J;
  statCalls(): number;
}

/** A store's jobs, rules and counts in a comparable form. */
export interface StoreState {
  readonly jobs: string[];
  readonly rules: string[];
  readonly counts: JobStore["counts"];
  readonly jobCount: number;
  readonly ruleCount: number;
  readonly nextDue: string | undefined;
}

export function setUpWith<J extends Journal>(journal: J): SetUp<J> {
  const store = new JobStore();
  const metrics = new MetricsRegistry();
  let statCalls = 0;
  const commands = new Commands({
    store,
    journal,
    undoLog: new UndoLog(),
    metrics,
    clock: new ManualClock(T1),
    stat: () => {
      statCalls++;
      return STATS;
    },
  });
  const run = (line: string, namespace?: string): Result =>
    commands.execute(command(line), namespace);
  return {
    store,
    metrics,
    commands,
    run,
    journal,
    statCalls: () => statCalls,
  };
}

export function setUp(): SetUp<RecordingJournal> {
  return setUpWith(new RecordingJournal());
}

export function command(line: string): Command {
  const request = parseRequest(`r ${line}`);
  if (request.kind !== "command") throw new Error(`bad test line: ${line}`);
  return request.command;
}

/** Jobs, rules and counts of a store, in a comparable form. */
export function state(store: JobStore): StoreState {
  const jobs = [...store.jobs()].map((j) =>
    `${j.id} ${j.status} ${j.executionNs}`
  )
    .sort();
  const rules = [...store.rules()].map((r) => JSON.stringify(r)).sort();
  return {
    jobs,
    rules,
    counts: { ...store.counts },
    jobCount: store.jobCount,
    ruleCount: store.ruleCount,
    nextDue: store.nextDue()?.id,
  };
}

export function job(
  id: string,
  executionNs: bigint,
  status: Job["status"],
): Job {
  return { id, executionNs, status };
}

export function rule(id: string, pattern: string, command = "true"): Rule {
  return { id, pattern, runner: { kind: "shell", command } };
}

/** The result as a comparable value: `done` without its promise. */
export function shape(result: Result): unknown {
  if (result.kind !== "done") return result;
  const { committed: _, ...rest } = result;
  return rest;
}
