import type { Job } from "./job.ts";
import type { Rule } from "./rule.ts";
import type { Run } from "./run.ts";

/** One logfile record: a change to the stored state (spec: persistence.md §3). */
export type Mutation =
  | { readonly kind: "set"; readonly job: Job }
  | { readonly kind: "remove"; readonly jobId: string }
  | { readonly kind: "ruleSet"; readonly rule: Rule }
  | { readonly kind: "removeRule"; readonly ruleId: string }
  /** A finished execution of a job (spec: extensions.md §3, §5). */
  | { readonly kind: "run"; readonly run: Run };
