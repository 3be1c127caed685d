import type { Schedule } from "./schedule.ts";

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
 * (spec: extensions.md §2); absent means 1. A recurring job has a
 * `schedule`, and `occurrenceNs`, the occurrence its run (or its retries)
 * stands for, when that differs from the execution time (§4).
 */
export interface Job {
  readonly id: string;
  readonly executionNs: bigint;
  readonly status: JobStatus;
  readonly attempt?: number;
  readonly schedule?: Schedule;
  readonly occurrenceNs?: bigint;
}

/** The attempt of a job's next (or running) execution. */
export function attemptOf(job: Job): number {
  return job.attempt ?? 1;
}

/** The occurrence a recurring job's run stands for (`handled`, §4). */
export function occurrenceOf(job: Job): bigint {
  return job.occurrenceNs ?? job.executionNs;
}

/** Tells whether a string names a job status. */
export function isJobStatus(value: string): value is JobStatus {
  return (JOB_STATUSES as readonly string[]).includes(value);
}
