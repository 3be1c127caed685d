import type { Job } from "./job.ts";
import type { Rule } from "./rule.ts";
import type { Run } from "./run.ts";

/** One STAT line's key and value (spec: protocol.md §6). */
export type StatEntry = readonly [key: string, value: string | number | bigint];

/**
 * What a command gives back, for every front door to render: the TCP
 * answer text (protocol/answer.ts) and, later, HTTP JSON. Never wire text.
 */
export type Result =
  /** GET: one job. */
  | { readonly kind: "job"; readonly job: Job }
  /** QUERY: the jobs that match. */
  | { readonly kind: "jobs"; readonly jobs: readonly Job[] }
  /** LISTRULES: the rules visible to the client. */
  | { readonly kind: "rules"; readonly rules: readonly Rule[] }
  /**
   * HISTORY: a job's runs, oldest first; or the latest failed runs across
   * jobs, newest first (spec: extensions.md §3, http-api.md §7).
   */
  | { readonly kind: "runs"; readonly runs: readonly Run[] }
  /** STAT: every key in order. */
  | { readonly kind: "stats"; readonly entries: readonly StatEntry[] }
  /**
   * A mutation applied in memory; `committed` settles once it is durable
   * (and rejects when its group failed). `job` or `rule` is what was stored.
   */
  | {
    readonly kind: "done";
    readonly committed: Promise<void>;
    readonly job?: Job;
    readonly rule?: Rule;
  }
  /** No such job or rule (or hidden by the namespace). */
  | { readonly kind: "notFound"; readonly reason: string }
  /** An identifier or pattern outside the client's namespace. */
  | { readonly kind: "forbidden"; readonly reason: string }
  /** The journal is read-only after a write failure (persistence.md §5). */
  | { readonly kind: "readOnly"; readonly reason: string }
  /** A command that cannot be applied; the reason is for the log. */
  | { readonly kind: "invalid"; readonly reason: string };

/** The results that answer `ERROR`, each with a reason for the log. */
export type Failure = Extract<
  Result,
  { kind: "notFound" | "forbidden" | "readOnly" | "invalid" }
>;

/** Tells whether a result is a failure. */
export function isFailure(result: Result): result is Failure {
  return result.kind === "notFound" || result.kind === "forbidden" ||
    result.kind === "readOnly" || result.kind === "invalid";
}
