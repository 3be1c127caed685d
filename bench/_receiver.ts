/**
 * The receiver of the http runner's POSTs in the bench process: a bare
 * HTTP/1.1 keep-alive server that records each job's lateness (arrival time
 * minus its due time, from the JSON body).
 *
 * @module
 */
import { nsToMs, wallNowMs } from "./_clock.ts";

const EXECUTION = /"execution":(-?\d+)/;
const JOB_ID = /"job_id":"([^"]*)"/;
const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)/i;
const HEAD_END = "\r\n\r\n";
const NO_CONTENT = new TextEncoder().encode(
  "HTTP/1.1 204 No Content\r\n\r\n",
);

/**
 * Receives the http runner's POSTs and records their lateness: a bare
 * HTTP/1.1 keep-alive server on `Deno.listen` (ASCII requests with a
 * `Content-Length`, answered `204`), several times cheaper per request than
 * `Deno.serve`, which capped the scenario near 10,000 requests/s here.
 */
export class Receiver implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<Deno.Conn>();
  readonly #accepting: Promise<void>;
  /** job id → lateness in ms. */
  readonly lateness = new Map<string, number>();
  #waiter: { prefix: string; count: number; resolve: () => void } | undefined;
  #seen = 0;

  constructor() {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        conn.setNoDelay(true);
        this.#conns.add(conn);
        this.#serve(conn).catch(() => {}).finally(() => {
          this.#conns.delete(conn);
        });
      }
    } catch {
      // listener closed
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(64 * 1024);
    let pending = "";
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) return;
      const arrivedMs = wallNowMs();
      pending += decoder.decode(buffer.subarray(0, n), { stream: true });
      let answers = 0;
      for (;;) {
        const head = pending.indexOf(HEAD_END);
        if (head < 0) break;
        const length = Number(
          CONTENT_LENGTH.exec(pending.slice(0, head + 2))?.[1] ?? 0,
        );
        const end = head + HEAD_END.length + length;
        if (pending.length < end) break;
        this.#record(pending.slice(end - length, end), arrivedMs);
        pending = pending.slice(end);
        answers++;
      }
      for (let i = 0; i < answers; i++) await conn.write(NO_CONTENT);
    }
  }

  #record(body: string, arrivedMs: number): void {
    const execution = body.match(EXECUTION)?.[1];
    const jobId = body.match(JOB_ID)?.[1];
    if (execution === undefined || jobId === undefined) return;
    this.lateness.set(jobId, arrivedMs - nsToMs(BigInt(execution)));
    const waiter = this.#waiter;
    if (waiter && jobId.startsWith(waiter.prefix)) {
      if (++this.#seen >= waiter.count) waiter.resolve();
    }
  }

  /** Resolves once `count` jobs with `prefix` arrived, or after `timeoutMs`. */
  async waitFor(
    prefix: string,
    count: number,
    timeoutMs: number,
  ): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#seen = [...this.lateness.keys()].filter((k) => k.startsWith(prefix))
      .length;
    if (this.#seen >= count) return;
    this.#waiter = { prefix, count, resolve };
    const timer = setTimeout(resolve, timeoutMs);
    await promise;
    clearTimeout(timer);
    this.#waiter = undefined;
  }

  /** Latenesses (ms) of the jobs with `prefix`. */
  collect(prefix: string): number[] {
    const out: number[] = [];
    for (const [id, ms] of this.lateness) {
      if (id.startsWith(prefix)) out.push(ms);
    }
    return out;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
    await this.#accepting;
  }
}
