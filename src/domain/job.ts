/** The four states of a job (spec: protocol.md §7). */
export type JobStatus = "planned" | "triggered" | "executed" | "failed";

/** The job statuses, in the order STAT reports them. */
export const JOB_STATUSES: readonly JobStatus[] = [
  "planned",
  "triggered",
  "executed",
  "failed",
];

/** A named point in time and how far it got (spec: README glossary). */
export interface Job {
  readonly id: string;
  readonly executionNs: bigint;
  readonly status: JobStatus;
}

/** Tells whether a string names a job status. */
export function isJobStatus(value: string): value is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(value);
}
