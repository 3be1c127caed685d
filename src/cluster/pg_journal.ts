/**
 * The PostgreSQL journal (spec: cluster.md §2): mutations are committed in
 * groups, one transaction per group with multi-row statements, fenced by
 * the lease; a failed commit rejects its whole group (the scheduler undoes
 * it in memory, as after a failed fsync).
 *
 * @module
 */
import type { Mutation } from "../domain/mutation.ts";
import type {
  Counter,
  Histogram,
  Journal,
  Metrics,
} from "../scheduler/ports.ts";
import { groupWrites } from "./_pg_group.ts";
import { type Pg, scrub } from "./pg.ts";
import { type Fence, groupStatements } from "./pg_writes.ts";
import { FENCE_SQLSTATE } from "./schema.ts";

/** A group being formed or committed. */
interface Group {
  readonly mutations: Mutation[];
  readonly done: PromiseWithResolvers<void>;
}

/** What a postgres journal needs besides its pool. */
export interface PgJournalOptions {
  /** The URL, to scrub its password from error messages. */
  readonly url: string;
  /** The lease to check in every commit; none for import (no cluster). */
  readonly fence?: Fence;
  /** Tells whether the lease is still valid by the local clock. */
  readonly leading?: () => boolean;
  /** Called once when a commit shows the lease or the database is lost. */
  readonly onLost?: (reason: string) => void;
  /** Runs kept per job (`[execution] history`). */
  readonly history: number;
  readonly metrics?: Metrics;
}

/**
 * Commits mutations to PostgreSQL, one group in flight at a time: the
 * records appended while a commit runs form the next group.
 *
 * @example
 * ```ts ignore
 * const journal = new PgJournal(sql, { url, history: 10 });
 * await journal.append({ kind: "remove", jobId: "backup.daily" });
 * ```
 */
export class PgJournal implements Journal, AsyncDisposable {
  readonly #sql: Pg;
  readonly #options: PgJournalOptions;
  #forming: Group | undefined;
  #committing: Promise<void> | undefined;
  #scheduled = false;
  #lost = false;
  #closed = false;
  readonly #commits: Counter | undefined;
  readonly #records: Counter | undefined;
  readonly #commitSeconds: Histogram | undefined;

  constructor(sql: Pg, options: PgJournalOptions) {
    this.#sql = sql;
    this.#options = options;
    this.#commits = options.metrics?.counter("journal_commits_total");
    this.#records = options.metrics?.counter("journal_records_total");
    this.#commitSeconds = options.metrics?.histogram(
      "journal_commit_duration_seconds",
    );
  }

  /** `false` once the lease is lost or the journal closed. */
  get writable(): boolean {
    return !this.#lost && !this.#closed &&
      (this.#options.leading?.() ?? true);
  }

  /** `false` once the lease ran out on the local clock or was lost. */
  mayAct(): boolean {
    return !this.#lost && (this.#options.leading?.() ?? true);
  }

  /** Always `idle`: the database needs no compaction. */
  get compaction(): "idle" {
    return "idle";
  }

  /** Queues a record; resolves once its group's transaction committed. */
  append(mutation: Mutation): Promise<void> {
    if (!this.writable) {
      return Promise.reject(new Error("postgres: this node is not the leader"));
    }
    const group = this.#forming ??= {
      mutations: [],
      done: Promise.withResolvers<void>(),
    };
    group.mutations.push(mutation);
    if (!this.#scheduled && this.#committing === undefined) {
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
    }
    return group.done.promise;
  }

  /**
   * Stops committing: the forming group is rejected, the one in flight is
   * answered by its transaction (which the fence fails if the lease moved).
   */
  depose(): void {
    this.#lost = true;
    this.#rejectForming(new Error("postgres: this node stepped down"));
  }

  /** Commits what is queued, then refuses appends. */
  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#committing !== undefined) await this.#committing;
    if (this.#forming !== undefined && !this.#lost) this.#flush();
    while (this.#committing !== undefined) await this.#committing;
    this.#closed = true;
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #flush(): void {
    this.#scheduled = false;
    const group = this.#forming;
    if (group === undefined || this.#committing !== undefined) return;
    this.#forming = undefined;
    if (!this.writable) {
      group.done.reject(new Error("postgres: this node is not the leader"));
      return;
    }
    this.#committing = this.#commit(group).finally(() => {
      this.#committing = undefined;
      if (this.#forming !== undefined) this.#flush();
    });
  }

  async #commit(group: Group): Promise<void> {
    const startedMs = performance.now();
    const { fence, history } = this.#options;
    const writes = groupWrites(group.mutations);
    try {
      await this.#sql.begin((tx) =>
        groupStatements(tx, writes, { fence, history })
      );
    } catch (error) {
      this.#failed(group, error);
      return;
    }
    this.#commits?.add();
    this.#records?.add(group.mutations.length);
    this.#commitSeconds?.observe((performance.now() - startedMs) / 1000);
    group.done.resolve();
  }

  /**
   * Rejects the group; when the lease or the database is lost, the newer
   * forming group first, and the node is told to step down.
   */
  #failed(group: Group, error: unknown): void {
    const reason = scrub(this.#options.url, String(messageOf(error)));
    const failure = new Error(`postgres: commit failed: ${reason}`, {
      cause: error,
    });
    if (isFatal(error)) {
      this.#lost = true;
      this.#rejectForming(failure);
      group.done.reject(failure);
      this.#options.onLost?.(reason);
      return;
    }
    group.done.reject(failure);
  }

  #rejectForming(error: Error): void {
    const forming = this.#forming;
    this.#forming = undefined;
    forming?.done.reject(error);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Tells whether a failed commit means the lease or the database is lost
 * (step down) rather than a failure of this group only (cluster.md §2):
 * the fence, a connection error, a cancelled statement, a server shutdown.
 */
export function isFatal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return true;
  if (code === FENCE_SQLSTATE) return true;
  if (/^[0-9A-Z]{5}$/.test(code)) {
    return code.startsWith("08") || code.startsWith("57") ||
      code.startsWith("53") || code === "25P03";
  }
  return true; // CONNECTION_CLOSED, ECONNREFUSED, …: the client's own codes
}
