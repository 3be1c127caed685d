/** The one deadline mechanism: execution timeouts and runners' 30 s limits. */

/** Longer `setTimeout` delays fire at once, so long waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const NEVER = new AbortController().signal;

/** A signal that aborts at a deadline; dispose of it to stop the timer. */
export interface Deadline extends Disposable {
  readonly signal: AbortSignal;
}

/**
 * A signal that aborts when `parent` does (with its reason) or once `ms`
 * have passed (with `reason()`); `ms <= 0` means no deadline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deadline } from "./deadline.ts";
 *
 * using limit = deadline(undefined, 1, () => new Error("too slow"));
 * await new Promise((resolve) => limit.signal.onabort = resolve);
 * assert.equal(limit.signal.reason.message, "too slow");
 * ```
 */
export function deadline(
  parent: AbortSignal | undefined,
  ms: number,
  reason: () => unknown,
): Deadline {
  if (!(ms > 0)) {
    return { signal: parent ?? NEVER, [Symbol.dispose]() {} };
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent!.reason);
  if (parent?.aborted) onAbort();
  else parent?.addEventListener("abort", onAbort, { once: true });
  const endMs = performance.now() + ms;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    const leftMs = endMs - performance.now();
    if (leftMs <= 0) return controller.abort(reason());
    timer = setTimeout(arm, Math.min(leftMs, MAX_TIMER_MS));
  };
  if (!controller.signal.aborted) arm();
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onAbort);
    },
  };
}
