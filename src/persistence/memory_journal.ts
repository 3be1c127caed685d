import type { Mutation } from "../domain/mutation.ts";
import type { Journal } from "../scheduler/ports.ts";

const COMMITTED: Promise<void> = Promise.resolve();

/**
 * Keeps nothing: every mutation counts as committed at once, for
 * `persistence = "memory"` (spec: persistence.md §1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryJournal } from "./memory_journal.ts";
 *
 * await using journal = new MemoryJournal();
 * await journal.append({ kind: "remove", jobId: "backup.daily" });
 * assert.equal(journal.writable, true);
 * assert.equal(journal.compaction, "idle");
 * ```
 */
export class MemoryJournal implements Journal, AsyncDisposable {
  /** Always `true`: nothing can fail to be written. */
  get writable(): boolean {
    return true;
  }

  /** Always `idle`: memory mode never compacts (spec: persistence.md §7). */
  get compaction(): "idle" {
    return "idle";
  }

  /** Resolves at once (one shared settled promise, so nothing is allocated). */
  append(_mutation: Mutation): Promise<void> {
    return COMMITTED;
  }

  /** Does nothing. */
  close(): Promise<void> {
    return COMMITTED;
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
