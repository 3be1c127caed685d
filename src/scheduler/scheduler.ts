import type { Command } from "../domain/command.ts";
import type { JobStatus } from "../domain/job.ts";
import { ANY_NAMESPACE } from "../domain/namespace.ts";
import type { Result, StatEntry } from "../domain/result.ts";
import { Commands } from "./commands.ts";
import { Executions } from "./executions.ts";
import type { JobStore } from "./job_store.ts";
import type {
  Clock,
  Executor,
  Journal,
  Metrics,
  Timer,
  Tracer,
} from "./ports.ts";
import { Retention } from "./retention.ts";
import { UndoLog } from "./undo_log.ts";
import { Wakeup } from "./wakeup.ts";

/** What the scheduler needs from the outside (spec: runners.md §1). */
export interface SchedulerOptions {
  /** The state, already filled by replay. */
  readonly store: JobStore;
  readonly clock: Clock;
  readonly timer: Timer;
  readonly journal: Journal;
  readonly executor: Executor;
  readonly metrics: Metrics;
  /** STAT's entries, in the spec's order (protocol.md §6). */
  readonly stat: () => readonly StatEntry[];
  /** At most this many executions run at once. */
  readonly concurrency: number;
  /** Per-execution limit; 0 means none. */
  readonly timeoutMs: number;
  /** What happens at start to jobs a crash left `triggered`. */
  readonly onInterrupted: "rerun" | "fail";
  /** Uniform in [0, 1), for retry jitter; `Math.random` unless given. */
  readonly random?: () => number;
  /** Finished one-shot jobs are removed after this long; 0 (default) = never. */
  readonly retentionMs?: number;
  /** Spans of executions (observability.md §2); none unless given. */
  readonly tracer?: Tracer;
}

/** Counts STAT reports about jobs, rules and executions. */
export interface SchedulerStats {
  readonly jobs: Readonly<Record<JobStatus, number>>;
  readonly jobsTotal: number;
  /** Jobs with a schedule (extensions.md §4). */
  readonly jobsRecurring: number;
  readonly rulesTotal: number;
  readonly executionsPending: number;
  readonly executionsInflight: number;
  /** Runs committed since start (extensions.md §3). */
  readonly runsRecorded: number;
  /** Jobs removed by retention since start (extensions.md §7). */
  readonly jobsExpired: number;
}

/**
 * The thin façade the front doors and the daemon use: commands go to the
 * command layer, the wake-up fires due jobs through the executions
 * (spec: protocol.md §6–§7, runners.md §1).
 */
export class Scheduler {
  readonly #store: JobStore;
  readonly #clock: Clock;
  readonly #journal: Journal;
  readonly #commands: Commands;
  readonly #executions: Executions;
  readonly #wakeup: Wakeup;
  readonly #retention: Retention;
  #started = false;
  #stopping = false;

  constructor(options: SchedulerOptions) {
    const { store, clock, journal } = options;
    this.#store = store;
    this.#clock = clock;
    this.#journal = journal;
    const undoLog = new UndoLog();
    this.#commands = new Commands({ ...options, undoLog });
    this.#executions = new Executions({
      ...options,
      undoLog,
      random: options.random ?? Math.random,
    });
    this.#wakeup = new Wakeup({
      timer: options.timer,
      clock,
      nextDueNs: () => store.nextDue()?.executionNs,
      held: () => !journal.writable,
      onWake: () => this.tick(),
    });
    this.#retention = new Retention({
      ...options,
      undoLog,
      retentionMs: options.retentionMs ?? 0,
    });
    store.onEarliest = () => {
      if (this.#started && !this.#stopping) this.#wakeup.arm();
    };
  }

  /** Applies one command for a client bound to `namespace`. */
  handle(command: Command, namespace: string = ANY_NAMESPACE): Result {
    return this.#commands.execute(command, namespace);
  }

  /** The command layer, for front doors that call commands by name. */
  get commands(): Commands {
    return this.#commands;
  }

  /** Counts for STAT (spec: protocol.md §6). */
  stats(): SchedulerStats {
    const store = this.#store;
    return {
      jobs: { ...store.counts },
      jobsTotal: store.jobCount,
      jobsRecurring: store.recurringCount,
      rulesTotal: store.ruleCount,
      executionsPending: this.#executions.pendingCount,
      executionsInflight: this.#executions.inflightCount,
      runsRecorded: this.#executions.runsRecorded,
      jobsExpired: this.#retention.expiredCount,
    };
  }

  /** Handles jobs replay left `triggered` (spec: persistence.md §6). */
  settleInterrupted(): void {
    this.#executions.settleInterrupted();
  }

  /** Starts firing due jobs, interrupted ones first, and retention. */
  start(): void {
    this.#started = true;
    this.tick();
    this.#retention.start();
  }

  /**
   * Fires every job due by now, in ascending time, then sleeps until the
   * next one or one second. Due jobs are held while the journal is
   * read-only (spec: persistence.md §5).
   */
  tick(): void {
    this.#wakeup.disarm();
    if (this.#stopping) return;
    const nowNs = this.#clock.nowNs();
    // Firing takes time: the wake-up reads the clock again after it.
    const fired = this.#journal.writable && this.#executions.fireDue(nowNs);
    if (this.#started) this.#wakeup.arm(fired ? undefined : nowNs);
  }

  /**
   * Stops firing jobs, gives running executions `graceMs` to finish, then
   * aborts the rest without recording them (spec: runners.md §1).
   */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopping = true;
    this.#wakeup.disarm();
    this.#retention.stop();
    await this.#executions.stop(graceMs);
  }
}
