import type { Mutation } from "../../src/domain/mutation.ts";
import type {
  Clock,
  Execution,
  Executor,
  Journal,
  Outcome,
} from "../../src/scheduler/ports.ts";

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(public ns: bigint) {}
  nowNs(): bigint {
    return this.ns;
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
