import type { Command } from "../domain/command.ts";
import type { Job, JobStatus } from "../domain/job.ts";
import type { Mutation } from "../domain/mutation.ts";
import { ANY_NAMESPACE, isInside } from "../domain/namespace.ts";
import { findRule, type Rule } from "../domain/rule.ts";
import { runnerArgs } from "../domain/runner.ts";
import { logger } from "../log.ts";
import { DueHeap } from "./due_heap.ts";
import type { Clock, Executor, Journal, Outcome } from "./ports.ts";
import { Fifo } from "./_fifo.ts";
import { JobTable } from "./job_table.ts";
import { clearImmediate, setImmediate } from "node:timers";

const log = logger("scheduler");
/** Re-check the wall clock at least this often (spec: protocol.md §7). */
const MAX_SLEEP_MS = 1000;
/**
 * Timers fire 1–2 ms late, so they wake the scheduler this long before a job
 * is due, and the rest of the wait is polled with `setImmediate`, which lets
 * I/O run between polls.
 */
const POLL_WITHIN_NS = 2_000_000n;
/** While the logfile is read-only, due jobs are held; look again this often. */
const HELD_RETRY_MS = 50;

/** What the scheduler needs from the outside (spec: runners.md §1). */
export interface SchedulerOptions {
  readonly clock: Clock;
  readonly journal: Journal;
  readonly executor: Executor;
  /** At most this many executions run at once. */
  readonly concurrency: number;
  /** Per-execution limit; 0 means none. */
  readonly timeoutMs: number;
  /** What happens at start to jobs a crash left `triggered`. */
  readonly onInterrupted: "rerun" | "fail";
}

/** The answer to a command: data for the client, or a reason for the log. */
export type Reply =
  | {
    readonly ok: true;
    /** Text after `OK` on the answer line (GET). */
    readonly body?: string;
    /** Data lines before the final `OK` (QUERY, LISTRULES). */
    readonly lines?: readonly string[];
    /** Settles once the mutation is durable; the answer waits for it. */
    readonly committed?: Promise<void>;
  }
  | { readonly ok: false; readonly reason: string };

/** Counts STAT reports about jobs, rules and executions. */
export interface SchedulerStats {
  readonly jobs: Readonly<Record<JobStatus, number>>;
  readonly jobsTotal: number;
  readonly rulesTotal: number;
  readonly executionsPending: number;
  readonly executionsInflight: number;
}

/** A stored job; mutable so status changes need no new object per job. */
interface JobEntry {
  readonly id: string;
  readonly executionNs: bigint;
  status: JobStatus;
  /** Order in which SETs were applied; breaks ties between due times. */
  readonly seq: number;
}

interface Queued {
  readonly entry: JobEntry;
  readonly job: Job;
  readonly rule: Rule;
}

/**
 * Holds jobs and rules, answers commands, fires due jobs through the
 * executor and records every change in the journal (spec: protocol.md §6–§7,
 * runners.md §1).
 */
export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #jobs = new JobTable<JobEntry>();
  readonly #rules = new Map<string, Rule>();
  readonly #heap = new DueHeap<JobEntry>();
  readonly #counts: Record<JobStatus, number> = {
    planned: 0,
    triggered: 0,
    executed: 0,
    failed: 0,
  };
  #interrupted: JobEntry[] = [];
  #seq = 0;
  readonly #pending = new Fifo<Queued>();
  readonly #running = new Set<AbortController>();
  readonly #inflight = new Set<Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #poll: ReturnType<typeof setImmediate> | undefined;
  readonly #tickTask = () => this.tick();
  #started = false;
  #stopping = false;
  #recording = true;

  constructor(options: SchedulerOptions) {
    this.#options = options;
  }

  /** Applies a replayed logfile record, writing nothing (spec: persistence.md §6). */
  restore(mutation: Mutation): void {
    switch (mutation.kind) {
      case "set": {
        const { id, executionNs, status } = mutation.job;
        this.#store({
          id: ownCopy(id),
          executionNs,
          status,
          seq: ++this.#seq,
        });
        break;
      }
      case "remove":
        this.#unstore(mutation.jobId);
        break;
      case "ruleSet":
        this.#rules.set(mutation.rule.id, mutation.rule);
        break;
      case "removeRule":
        this.#rules.delete(mutation.ruleId);
        break;
    }
  }

  /**
   * Decides what happens to jobs a crash left `triggered`, as
   * `onInterrupted` says: queued to run again at start, or failed now; a
   * warning names each (spec: persistence.md §6). Call after replay.
   */
  settleInterrupted(): void {
    for (const entry of this.#jobs.values()) {
      if (entry.status !== "triggered") continue;
      if (this.#options.onInterrupted === "rerun") {
        log.warn(`interrupted job ${entry.id} will run again`);
        this.#interrupted.push(entry);
      } else {
        log.warn(`interrupted job ${entry.id} marked failed`);
        this.#transition(entry, "failed").catch(ignoreUncommitted);
      }
    }
  }

  /** Starts firing due jobs, interrupted ones first. */
  start(): void {
    this.#started = true;
    this.tick();
  }

  /** Number of jobs and rules, for the startup line. */
  get size(): { jobs: number; rules: number } {
    return { jobs: this.#jobs.size, rules: this.#rules.size };
  }

  /**
   * Applies one command for a client bound to `namespace` (spec:
   * protocol.md §6 and §8). Mutations change memory at once, so later
   * requests see them, and report when they are durable.
   */
  handle(command: Command, namespace: string = ANY_NAMESPACE): Reply {
    switch (command.kind) {
      case "set": {
        if (!isInside(namespace, command.jobId)) return outside(command.jobId);
        if (!this.#options.journal.writable) return READ_ONLY;
        const { executionNs } = command;
        const id = ownCopy(command.jobId);
        const entry: JobEntry = {
          id,
          executionNs,
          status: "planned",
          seq: ++this.#seq,
        };
        const previous = this.#store(entry);
        const job: Job = { id, executionNs, status: "planned" };
        return this.#commit({ kind: "set", job }, () => {
          if (this.#jobs.get(entry.id) !== entry) return;
          if (previous) this.#store(previous);
          else this.#unstore(entry.id);
        });
      }
      case "get": {
        const entry = this.#jobs.get(command.jobId);
        if (!entry || !isInside(namespace, entry.id)) return NO_SUCH_JOB;
        return { ok: true, body: `${entry.status} ${entry.executionNs}` };
      }
      case "query": {
        const lines: string[] = [];
        for (const entry of this.#jobs.values()) {
          if (
            entry.id.startsWith(command.prefix) && isInside(namespace, entry.id)
          ) {
            lines.push(`${entry.id} ${entry.status} ${entry.executionNs}`);
          }
        }
        return { ok: true, lines };
      }
      case "remove": {
        const entry = this.#jobs.get(command.jobId);
        if (!entry || !isInside(namespace, entry.id)) return NO_SUCH_JOB;
        if (!this.#options.journal.writable) return READ_ONLY;
        this.#unstore(entry.id);
        return this.#commit({ kind: "remove", jobId: entry.id }, () => {
          if (this.#jobs.get(entry.id) === undefined) this.#store(entry);
        });
      }
      case "ruleSet": {
        const { rule } = command;
        if (
          !isInside(namespace, rule.id) || !isInside(namespace, rule.pattern)
        ) {
          return outside(rule.id);
        }
        if (!this.#options.journal.writable) return READ_ONLY;
        const previous = this.#rules.get(rule.id);
        this.#rules.set(rule.id, rule);
        return this.#commit({ kind: "ruleSet", rule }, () => {
          if (this.#rules.get(rule.id) !== rule) return;
          if (previous) this.#rules.set(rule.id, previous);
          else this.#rules.delete(rule.id);
        });
      }
      case "removeRule": {
        const rule = this.#rules.get(command.ruleId);
        if (!rule || !isInside(namespace, rule.id)) {
          return { ok: false, reason: `no rule "${command.ruleId}"` };
        }
        if (!this.#options.journal.writable) return READ_ONLY;
        this.#rules.delete(rule.id);
        return this.#commit({ kind: "removeRule", ruleId: rule.id }, () => {
          if (!this.#rules.has(rule.id)) this.#rules.set(rule.id, rule);
        });
      }
      case "listRules": {
        const lines: string[] = [];
        for (const rule of this.#rules.values()) {
          if (isInside(namespace, rule.id)) lines.push(renderRule(rule));
        }
        return { ok: true, lines };
      }
      case "stat":
        return { ok: false, reason: "STAT is answered by the server" };
    }
  }

  /** Counts for STAT (spec: protocol.md §6). */
  stats(): SchedulerStats {
    return {
      jobs: { ...this.#counts },
      jobsTotal: this.#jobs.size,
      rulesTotal: this.#rules.size,
      executionsPending: this.#pending.size,
      executionsInflight: this.#running.size,
    };
  }

  /** Live views of the state, for compaction (spec: persistence.md §7). */
  snapshot(): { rules: Iterable<Rule>; jobs: Iterable<Job> } {
    return { rules: this.#rules.values(), jobs: this.#jobs.values() };
  }

  /**
   * Fires every job due by now, in ascending time, then sleeps until the
   * next one or one second, whichever comes first. Due jobs are held while
   * the journal is read-only (spec: persistence.md §5).
   */
  tick(): void {
    this.#disarm();
    if (this.#stopping) return;
    if (this.#options.journal.writable) {
      const interrupted = this.#interrupted;
      this.#interrupted = [];
      for (const entry of interrupted) {
        if (
          this.#jobs.get(entry.id) === entry && entry.status === "triggered"
        ) {
          this.#trigger(entry);
        }
      }
      const nowNs = this.#options.clock.nowNs();
      for (;;) {
        const next = this.#nextDue();
        if (next === undefined || next.executionNs > nowNs) break;
        this.#heap.pop();
        this.#trigger(next);
      }
    }
    if (this.#started) this.#arm();
  }

  /**
   * Stops firing jobs, gives running executions `graceMs` to finish (their
   * outcomes are recorded), then aborts the rest without recording them
   * (spec: runners.md §1, shutdown).
   */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopping = true;
    this.#disarm();
    if (this.#inflight.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([Promise.all(this.#inflight), grace]);
      clearTimeout(timer);
    }
    this.#recording = false;
    for (const controller of this.#running) {
      controller.abort(new ShutdownError());
    }
    await Promise.all(this.#inflight);
  }

  #commit(mutation: Mutation, undo: () => void): Reply {
    return {
      ok: true,
      committed: this.#options.journal.append(mutation, undo),
    };
  }

  /** Stores a job; returns the one it replaces. */
  #store(entry: JobEntry): JobEntry | undefined {
    const previous = this.#jobs.set(entry);
    if (previous) this.#counts[previous.status]--;
    this.#counts[entry.status]++;
    if (entry.status === "planned") {
      this.#heap.push(entry);
      if (this.#started && this.#heap.peek() === entry) this.#rearm();
      // Re-SETs leave superseded heap items behind; drop them in bulk.
      if (this.#heap.size > 2 * this.#jobs.size + 1024) {
        this.#heap.filter((item) => this.#isWaiting(item));
      }
    }
    return previous;
  }

  #unstore(jobId: string): void {
    const entry = this.#jobs.delete(jobId);
    if (entry) this.#counts[entry.status]--;
  }

  #setStatus(entry: JobEntry, status: JobStatus): void {
    this.#counts[entry.status]--;
    entry.status = status;
    this.#counts[status]++;
  }

  /** Changes a stored job's status and records it; undone if not durable. */
  #transition(entry: JobEntry, status: JobStatus): Promise<void> {
    const before = entry.status;
    this.#setStatus(entry, status);
    const job: Job = { id: entry.id, executionNs: entry.executionNs, status };
    return this.#options.journal.append({ kind: "set", job }, () => {
      if (this.#jobs.get(entry.id) !== entry || entry.status !== status) return;
      this.#setStatus(entry, before);
      if (before === "planned") this.#heap.push(entry);
      if (before === "triggered") this.#interrupted.push(entry);
    });
  }

  #isWaiting(entry: JobEntry): boolean {
    return this.#jobs.get(entry.id) === entry && entry.status === "planned";
  }

  #nextDue(): JobEntry | undefined {
    for (;;) {
      const top = this.#heap.peek();
      if (top === undefined || this.#isWaiting(top)) return top;
      this.#heap.pop();
    }
  }

  #rearm(): void {
    this.#disarm();
    this.#arm();
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#poll !== undefined) clearImmediate(this.#poll);
    this.#poll = undefined;
  }

  /** Wakes the scheduler when the next job is due, or in a second. */
  #arm(): void {
    const next = this.#nextDue();
    let delayMs = MAX_SLEEP_MS;
    if (next !== undefined) {
      const waitNs = next.executionNs - this.#options.clock.nowNs();
      if (!this.#options.journal.writable) {
        delayMs = HELD_RETRY_MS;
      } else if (waitNs <= POLL_WITHIN_NS) {
        this.#poll = setImmediate(this.#tickTask);
        return;
      } else if (waitNs < BigInt(MAX_SLEEP_MS) * 1_000_000n) {
        delayMs = Number((waitNs - POLL_WITHIN_NS) / 1_000_000n);
      }
    }
    this.#timer = setTimeout(this.#tickTask, delayMs);
  }

  /** Selects the rule of a due job and queues its execution (spec: runners.md §1). */
  #trigger(entry: JobEntry): void {
    const rule = findRule(this.#rules.values(), entry.id);
    if (rule === undefined) {
      log.warn(`job ${entry.id} failed: no rule matches`);
      this.#transition(entry, "failed").catch(ignoreUncommitted);
      return;
    }
    const job: Job = {
      id: entry.id,
      executionNs: entry.executionNs,
      status: "triggered",
    };
    this.#transition(entry, "triggered").then(
      () => {
        this.#pending.push({ entry, job, rule });
        this.#pump();
      },
      ignoreUncommitted,
    );
  }

  #pump(): void {
    while (
      !this.#stopping && this.#running.size < this.#options.concurrency &&
      this.#pending.size > 0
    ) {
      const queued = this.#pending.shift()!;
      if (this.#jobs.get(queued.entry.id) !== queued.entry) {
        log.debug(
          `execution of job ${queued.job.id} dropped: job was re-set or removed`,
        );
        continue;
      }
      const done = this.#run(queued);
      this.#inflight.add(done);
      done.finally(() => this.#inflight.delete(done));
    }
  }

  async #run({ entry, job, rule }: Queued): Promise<void> {
    const controller = new AbortController();
    this.#running.add(controller);
    const { timeoutMs } = this.#options;
    const timer = timeoutMs > 0
      ? setTimeout(
        () => controller.abort(new TimeoutError(timeoutMs)),
        timeoutMs,
      )
      : undefined;
    let outcome: Outcome;
    try {
      outcome = await this.#options.executor.execute({
        job,
        rule,
        signal: controller.signal,
      });
    } catch (error) {
      outcome = { ok: false, reason: `unexpected error: ${error}` };
    } finally {
      clearTimeout(timer);
      this.#running.delete(controller);
    }
    this.#finish(entry, rule, outcome);
    this.#pump();
  }

  #finish(entry: JobEntry, rule: Rule, outcome: Outcome): void {
    log.debug(`execution outcome: job=${entry.id} success=${outcome.ok}`);
    if (!outcome.ok) {
      log.warn(
        `execution failed: job=${entry.id} rule=${rule.id} runner=${rule.runner.kind}: ${outcome.reason}`,
      );
    }
    if (!this.#recording) {
      log.debug(`outcome of job ${entry.id} not recorded: shutting down`);
      return;
    }
    if (this.#jobs.get(entry.id) !== entry || entry.status !== "triggered") {
      log.debug(
        `outcome of job ${entry.id} discarded: job was re-set or removed`,
      );
      return;
    }
    this.#transition(entry, outcome.ok ? "executed" : "failed").catch(
      ignoreUncommitted,
    );
  }
}

/** Why an execution was aborted when its time ran out. */
export class TimeoutError extends Error {
  override name = "TimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs / 1000} s`);
  }
}

/** Why an execution was aborted at shutdown. */
export class ShutdownError extends Error {
  override name = "ShutdownError";
  constructor() {
    super("aborted at shutdown");
  }
}

/**
 * Renders a rule as LISTRULES shows it: values raw, space-separated
 * (spec: protocol.md §6).
 */
export function renderRule(rule: Rule): string {
  return [rule.id, rule.pattern, rule.runner.kind, ...runnerArgs(rule.runner)]
    .join(" ");
}

/**
 * A copy of an id that holds its own characters. An id cut from a request
 * line or a logfile chunk is a V8 slice that keeps the whole line or chunk
 * alive as long as the job lives (64 bytes more per job, measured). A JSON
 * round trip was the cheapest copy measured (~130 ns).
 */
function ownCopy(id: string): string {
  return JSON.parse(JSON.stringify(id));
}

const NO_SUCH_JOB: Reply = { ok: false, reason: "no such job" };
const READ_ONLY: Reply = {
  ok: false,
  reason: "logfile is read-only after a write failure",
};

function outside(identifier: string): Reply {
  return { ok: false, reason: `"${identifier}" is outside the namespace` };
}

// A status record that could not be committed was undone by the journal,
// which logs the failure and enters read-only mode.
function ignoreUncommitted(): void {}
