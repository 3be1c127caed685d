/**
 * Runs: the record of one finished execution of a job, or of a due job no
 * rule matched, or of one a restart found interrupted; and how a job keeps
 * its newest runs (spec: extensions.md §3).
 *
 * @module
 */

/** How a run ended. */
export type RunOutcome = "executed" | "failed";

/** One finished execution of a job (spec: extensions.md §3). */
export interface Run {
  readonly jobId: string;
  readonly attempt: number;
  /** Wall clock when the execution started (no-rule: when handled). */
  readonly startedNs: bigint;
  readonly endedNs: bigint;
  readonly outcome: RunOutcome;
  /** The rule that ran it; empty when none did. */
  readonly ruleId: string;
  /** One token without spaces: `exit:3`, `http:503`, `timeout`, … */
  readonly detail: string;
  /** At most 512 bytes; empty on success and on all but the newest run. */
  readonly message: string;
}

/** Longest run message, in UTF-8 bytes. */
export const MAX_MESSAGE_BYTES = 512;

/** The `detail` words of the spec's table that are not built from a value. */
export const DETAIL = {
  spawnError: "spawn-error",
  ok: "ok",
  error: "error",
  timeout: "timeout",
  noRule: "no-rule",
  interrupted: "interrupted",
} as const;

/** `exit:<code>`: a process exited. */
export function exitDetail(code: number): string {
  return `exit:${code}`;
}

/** `signal:<NAME>`: a process was killed by a signal. */
export function signalDetail(name: string): string {
  return `signal:${name}`;
}

/** `http:<status>`: an HTTP server answered. */
export function httpDetail(status: number): string {
  return `http:${status}`;
}

/** Tells whether a string names a run outcome. */
export function isRunOutcome(value: string): value is RunOutcome {
  return value === "executed" || value === "failed";
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
/** Control characters other than TAB. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/g;

/**
 * Builds a failed run's message: the reason, then `: ` and the end of a
 * process's stderr, the last bytes that fit in 512, cut at a UTF-8
 * boundary; control characters other than TAB become spaces and the
 * stderr text is trimmed. Credentials must already be redacted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runMessage } from "./run.ts";
 *
 * assert.equal(
 *   runMessage("exited with code 3", "rsync: connection refused\n"),
 *   "exited with code 3: rsync: connection refused",
 * );
 * const long = runMessage("failed", "é".repeat(400));
 * assert.equal(new TextEncoder().encode(long).length, 512);
 * assert.ok(long.startsWith("failed: éé"));
 * ```
 */
export function runMessage(reason: string, stderr = ""): string {
  const head = cutHead(reason.replace(CONTROL, " "), MAX_MESSAGE_BYTES);
  const tail = stderr.replace(CONTROL, " ").trim();
  if (tail === "") return head;
  if (head === "") return cutTail(tail, MAX_MESSAGE_BYTES);
  const room = MAX_MESSAGE_BYTES - ENCODER.encode(head).length - 2;
  return room > 0 ? `${head}: ${cutTail(tail, room)}` : head;
}

/**
 * Tells whether two runs are the same record: equal in everything but the
 * message (which only the newest run keeps).
 */
export function isSameRun(a: Run, b: Run): boolean {
  return a.startedNs === b.startedNs && a.endedNs === b.endedNs &&
    a.attempt === b.attempt && a.outcome === b.outcome &&
    a.ruleId === b.ruleId && a.detail === b.detail && a.jobId === b.jobId;
}

/**
 * A job's runs once `run` is recorded: newest last, at most `limit`, only
 * the newest with its message. A run equal to one already kept (a record
 * met twice, as a compaction's snapshot and the records committed during it
 * give) cuts the history back to it: what followed it then comes again in
 * order. The given array is left as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withRun } from "./run.ts";
 *
 * const run = (n: bigint, message = "") => ({
 *   jobId: "j", attempt: 1, startedNs: n, endedNs: n, outcome: "failed",
 *   ruleId: "r", detail: "exit:1", message,
 * } as const);
 * let runs = withRun([], run(1n, "first"), 2);
 * runs = withRun(runs, run(2n, "second"), 2);
 * runs = withRun(runs, run(3n, "third"), 2);
 * assert.deepEqual(runs, [run(2n), run(3n, "third")]);
 * assert.deepEqual(withRun(runs, run(2n, "again"), 2), [run(2n, "again")]);
 * ```
 */
export function withRun(
  runs: readonly Run[],
  run: Run,
  limit: number,
): readonly Run[] {
  if (limit <= 0) return runs;
  let same = runs.length - 1;
  while (same >= 0 && !isSameRun(runs[same]!, run)) same--;
  const kept = same >= 0 ? runs.slice(0, same) : runs.slice();
  const last = kept.length - 1;
  if (last >= 0 && kept[last]!.message !== "") {
    kept[last] = { ...kept[last]!, message: "" };
  }
  kept.push(run);
  if (kept.length > limit) kept.splice(0, kept.length - limit);
  return kept;
}

/** The first bytes of `text` that fit in `bytes`, cut at a UTF-8 boundary. */
function cutHead(text: string, bytes: number): string {
  const encoded = ENCODER.encode(text);
  if (encoded.length <= bytes) return text;
  let end = bytes;
  while (end > 0 && (encoded[end]! & 0xc0) === 0x80) end--;
  return DECODER.decode(encoded.subarray(0, end));
}

/** The last bytes of `text` that fit in `bytes`, cut at a UTF-8 boundary. */
function cutTail(text: string, bytes: number): string {
  const encoded = ENCODER.encode(text);
  if (encoded.length <= bytes) return text;
  let start = encoded.length - bytes;
  while (start < encoded.length && (encoded[start]! & 0xc0) === 0x80) start++;
  return DECODER.decode(encoded.subarray(start)).trimStart();
}

/**
 * A run's fields after its job id, as JSON members in the spec's order
 * (`attempt`, `started`, `ended`, `outcome`, `rule`, `detail`, `message`),
 * times exact: the tail of the HTTP run object and of dump's run record
 * (spec: http-api.md §7, extensions.md §5).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runFieldsJson } from "./run.ts";
 *
 * assert.equal(
 *   runFieldsJson({
 *     jobId: "j",
 *     attempt: 2,
 *     startedNs: 1775008800000412000n,
 *     endedNs: 1775008801234000000n,
 *     outcome: "executed",
 *     ruleId: "r",
 *     detail: "exit:0",
 *     message: "",
 *   }),
 *   '"attempt":2,"started":1775008800000412000,"ended":1775008801234000000,' +
 *     '"outcome":"executed","rule":"r","detail":"exit:0","message":""',
 * );
 * ```
 */
export function runFieldsJson(run: Run): string {
  const s = JSON.stringify;
  return `"attempt":${run.attempt},"started":${run.startedNs},"ended":${run.endedNs},"outcome":${
    s(run.outcome)
  },"rule":${s(run.ruleId)},"detail":${s(run.detail)},"message":${
    s(run.message)
  }`;
}
