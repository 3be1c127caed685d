import { logger } from "../log.ts";
import { errorMessage } from "../errors.ts";
import type { Counter } from "./ports.ts";

const log = logger("scheduler");

/** The changes waiting for one journal group. */
interface Group {
  readonly committed: Promise<void>;
  readonly undos: (() => void)[];
  readonly counters: Counter[];
}

/**
 * Undoes in-memory changes whose journal group failed, newest first, and
 * counts the ones that became durable (spec: persistence.md §5).
 *
 * The owner of the state undoes its own changes: the journal only says
 * whether a group is durable, so every journal implementation (logfile,
 * memory, PostgreSQL) stays free of scheduler state. One handler per group
 * runs its undos newest first; journals reject newer groups first, so
 * across groups the order holds too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UndoLog } from "./undo_log.ts";
 *
 * const undone: string[] = [];
 * const undoLog = new UndoLog();
 * const group = Promise.reject(new Error("disk full"));
 * undoLog.track(group, () => undone.push("a"));
 * undoLog.track(group, () => undone.push("b"));
 * await group.catch(() => {});
 * assert.deepEqual(undone, ["b", "a"]);
 * ```
 */
export class UndoLog {
  #current: Group | undefined;

  /**
   * Registers `undo` to run if `committed` rejects, and `counter` to count
   * one if it resolves; returns `committed`.
   */
  track(
    committed: Promise<void>,
    undo: () => void,
    counter?: Counter,
  ): Promise<void> {
    let group = this.#current;
    if (group === undefined || group.committed !== committed) {
      group = { committed, undos: [], counters: [] };
      this.#current = group;
      const settled = group;
      committed.then(
        () => this.#committed(settled),
        () => this.#failed(settled),
      );
    }
    group.undos.push(undo);
    if (counter !== undefined) group.counters.push(counter);
    return committed;
  }

  #committed(group: Group): void {
    this.#forget(group);
    for (const counter of group.counters) counter.add();
  }

  #failed(group: Group): void {
    this.#forget(group);
    const { undos } = group;
    for (let i = undos.length - 1; i >= 0; i--) {
      try {
        undos[i]!();
      } catch (error) {
        const reason = errorMessage(error);
        log.error(`undo of an uncommitted change failed: ${reason}`, {
          reason,
        });
      }
    }
  }

  /** A settled group takes no more changes (a journal never reuses one). */
  #forget(group: Group): void {
    if (this.#current === group) this.#current = undefined;
  }
}
