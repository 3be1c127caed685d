/**
 * The scaffold of the amqp and redis runners: one fresh TCP connection
 * (Nagle off) under one signal (the execution's, with the runner's 30 s limit), closed
 * on abort and at the end, and failures whose reasons carry no credentials
 * (spec: runners.md §1, §7–§9).
 *
 * @module
 */
import { deadline } from "../deadline.ts";
import { errorMessage } from "../errors.ts";
import type { Execution, Outcome } from "../scheduler/ports.ts";
import { DETAIL } from "../domain/run.ts";
import { redactUrl } from "./redact.ts";

/** The built-in limit for one whole network exchange (runners.md §7–§8). */
export const EXCHANGE_LIMIT_MS = 30_000;

/** Where an exchange connects and how its failures read. */
export interface ExchangeTarget {
  readonly host: string;
  readonly port: number;
  /** The action in failure reasons: `publish to exchange "x"`. */
  readonly action: string;
  /** The target without credentials: `amqp://mq:5672/%2F`. */
  readonly where: string;
  /** A password the peer might echo back; masked in reasons. */
  readonly secret?: string;
}

/**
 * Builds the failure of an exchange: `Cannot <action> via "<where>":
 * <detail>`, with the secret masked and URL credentials removed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exchangeFailure } from "./_exchange.ts";
 *
 * const target = { host: "mq", port: 5672, action: "publish", where: "amqp://mq:5672/", secret: "s3cret" };
 * assert.deepEqual(exchangeFailure(target, "login s3cret refused"), {
 *   ok: false,
 *   reason: 'Cannot publish via "amqp://mq:5672/": login *** refused',
 *   detail: "error",
 * });
 * ```
 */
export function exchangeFailure(
  target: ExchangeTarget,
  detail: string,
): Outcome {
  const { secret } = target;
  const masked = secret ? detail.replaceAll(secret, "***") : detail;
  return {
    ok: false,
    reason: `Cannot ${target.action} via "${target.where}": ${
      redactUrl(masked)
    }`,
    detail: DETAIL.error,
  };
}

/** Tuning for tests; production code passes nothing. */
export interface ExchangeOptions {
  /** Limit for the whole exchange, default 30 000 ms. */
  readonly limitMs?: number;
}

/**
 * Connects to the target and runs `steps` on the connection. Resolves to
 * `steps`' outcome, or to a failure for any error, abort of the execution
 * or the limit; `context()` is added to a thrown error's reason (e.g. the
 * step it happened in). Never throws.
 */
export async function runExchange(
  target: ExchangeTarget,
  execution: Execution,
  options: ExchangeOptions,
  steps: (conn: Deno.Conn) => Promise<Outcome>,
  context: () => string = () => "",
): Promise<Outcome> {
  const { signal } = execution;
  if (signal.aborted) {
    return exchangeFailure(target, `aborted: ${errorMessage(signal.reason)}`);
  }
  const limitMs = options.limitMs ?? EXCHANGE_LIMIT_MS;
  using limit = deadline(
    signal,
    limitMs,
    () => new Error(`no completion within ${limitMs} ms`),
  );
  let conn: Deno.Conn | undefined;
  const close = () => {
    try {
      conn?.close();
    } catch {
      // already closed; this also runs as an abort listener, so never throw
    }
    conn = undefined;
  };
  limit.signal.addEventListener("abort", close, { once: true });
  try {
    const tcp = await Deno.connect({
      hostname: target.host,
      port: target.port,
      signal: limit.signal,
    });
    conn = tcp;
    // Steps often send two writes before reading (AMQP's Tune-Ok then
    // Open): with Nagle the second waits for the peer's delayed ACK, ~40 ms.
    tcp.setNoDelay(true);
    limit.signal.throwIfAborted(); // an abort racing the connect's completion
    return await steps(conn);
  } catch (error) {
    return exchangeFailure(
      target,
      `${reasonOf(limit.signal, error, signal)}${context()}`,
    );
  } finally {
    limit.signal.removeEventListener("abort", close);
    close();
  }
}

/** Why the exchange stopped: the abort's reason, else the error's. */
function reasonOf(
  limit: AbortSignal,
  error: unknown,
  execution: AbortSignal,
): string {
  if (!limit.aborted) return errorMessage(error);
  if (execution.aborted) return `aborted: ${errorMessage(execution.reason)}`;
  return errorMessage(limit.reason);
}
