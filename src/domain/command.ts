import type { Rule } from "./rule.ts";
import type { Schedule } from "./schedule.ts";

/** A request's instruction with its checked arguments (spec: protocol.md §6). */
export type Command =
  | {
    readonly kind: "set";
    readonly jobId: string;
    readonly executionNs: bigint;
  }
  | { readonly kind: "get"; readonly jobId: string }
  | { readonly kind: "query"; readonly prefix: string }
  | { readonly kind: "remove"; readonly jobId: string }
  | { readonly kind: "ruleSet"; readonly rule: Rule }
  | { readonly kind: "removeRule"; readonly ruleId: string }
  | { readonly kind: "listRules" }
  | { readonly kind: "stat" }
  | { readonly kind: "history"; readonly jobId: string }
  /** A recurring job (spec: extensions.md §4). */
  | {
    readonly kind: "cron";
    readonly jobId: string;
    readonly schedule: Schedule;
  };

/** The name of a command as clients write it. */
export const INSTRUCTIONS: Record<Command["kind"], string> = {
  set: "SET",
  get: "GET",
  query: "QUERY",
  remove: "REMOVE",
  ruleSet: "RULE SET",
  removeRule: "REMOVERULE",
  listRules: "LISTRULES",
  stat: "STAT",
  history: "HISTORY",
  cron: "CRON",
};
