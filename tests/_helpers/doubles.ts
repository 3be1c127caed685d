import type { Mutation } from "../../src/domain/mutation.ts";
import type {
  Cancel,
  Clock,
  Execution,
  Executor,
  Journal,
  Outcome,
  Timer,
} from "../../src/scheduler/ports.ts";

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(public ns: bigint) {}
  nowNs(): bigint {
    return this.ns;
  }
}

/** One task given to a {@link ManualTimer}. */
export interface TimerTask {
  readonly kind: "after" | "soon";
  /** The delay of `after`; 0 for `soon`. */
  readonly delayMs: number;
  readonly cancelled: boolean;
  readonly fired: boolean;
}

/** A timer that runs nothing by itself: tests look at its tasks and fire them. */
export class ManualTimer implements Timer {
  readonly #tasks: {
    cancelled: boolean;
    fired: boolean;
    kind: "after" | "soon";
    delayMs: number;
  }[] = [];
  readonly #runs = new Map<TimerTask, () => void>();

  after(delayMs: number, task: () => void): Cancel {
    return this.#add("after", delayMs, task);
  }

  soon(task: () => void): Cancel {
    return this.#add("soon", 0, task);
  }

  /** Every task given so far, oldest first. */
  get tasks(): readonly TimerTask[] {
    return this.#tasks;
  }

  /** The tasks neither cancelled nor fired, oldest first. */
  get pending(): readonly TimerTask[] {
    return this.#tasks.filter((task) => !task.cancelled && !task.fired);
  }

  /** Runs the oldest pending task and returns it; throws when there is none. */
  fire(): TimerTask {
    const task = this.#tasks.find((t) => !t.cancelled && !t.fired);
    if (task === undefined) throw new Error("no pending timer task");
    task.fired = true;
    this.#runs.get(task)!();
    return task;
  }

  #add(kind: "after" | "soon", delayMs: number, run: () => void): Cancel {
    const task = { kind, delayMs, cancelled: false, fired: false };
    this.#tasks.push(task);
    this.#runs.set(task, run);
    return () => {
      if (!task.fired) task.cancelled = true;
    };
  }
}

/** A journal that keeps records in memory and can be told to fail. */
export class RecordingJournal implements Journal {
  readonly records: Mutation[] = [];
  writable = true;
  failNext = false;

  append(mutation: Mutation): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      this.writable = false;
      return Promise.reject(new Error("disk full"));
    }
    this.records.push(mutation);
    return Promise.resolve();
  }
}

/** An executor whose executions end when the test says so. */
export class ControlledExecutor implements Executor {
  readonly started: { execution: Execution; finish(outcome: Outcome): void }[] =
    [];

  execute(execution: Execution): Promise<Outcome> {
    const { promise, resolve } = Promise.withResolvers<Outcome>();
    execution.signal.addEventListener("abort", () => {
      resolve({
        ok: false,
        reason: String(execution.signal.reason),
        detail: "error",
      });
    });
    this.started.push({ execution, finish: resolve });
    return promise;
  }
}

/** Lets queued promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
}
