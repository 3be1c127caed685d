/** The four states of a job (spec: protocol.md §7). */
export type JobStatus = "planned" | "triggered" | "executed" | "failed";

/** The job statuses, in the order STAT reports them. */
export const JOB_STATUSES: readonly JobStatus[] = [
  "planned",
  "triggered",
  "executed",
  "failed",
];

/**
 * A named point in time and how far it got (spec: README glossary).
 * `attempt` numbers its executions: 1 for the first, 2 for the first retry
 * (spec: extensions.md §2); absent means 1.
 */
export interface Job {
  readonly id: string;
  readonly executionNs: bigint;
  readonly status: JobStatus;
  readonly attempt?: number;
}

/** The attempt of a job's next (or running) execution. */
export function attemptOf(job: Job): number {
  return job.attempt ?? 1;
}

/** Tells whether a string names a job status. */
export function isJobStatus(value: string): value is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(value);
}
