/**
 * A small HTTP/1.1 server on `Deno.listen` for the daemon's HTTP API, with
 * the abuse limits `Deno.serve` lacks: a connection cap, deadlines for the
 * head, the body, idle keep-alive and every write, bounded buffering, and
 * a JSON answer for every request it cannot take (spec: http-api.md §1,
 * §5). Handlers get a light {@link HttpRequest} with the raw path.
 *
 * @module
 */

import { HttpConnection } from "./_http_connection.ts";
import {
  ANSWERS,
  type CoarseClock,
  type ConnectionLimits,
  type HttpHandler,
  type HttpLog,
} from "./_http_types.ts";
import { encodeResponse } from "./_http_write.ts";
import { closeQuietly, formatAddr } from "../../io.ts";
import { acceptLoop } from "../_accept.ts";

/** Where and under which limits the server listens. */
export interface HttpServerOptions extends Partial<ConnectionLimits> {
  readonly hostname: string;
  readonly port: number;
  /** Connections beyond this many are answered 503 and closed. */
  readonly maxConnections?: number;
  /** How long {@link HttpServer.close} lets responses under way finish. */
  readonly closeGraceMs?: number;
  readonly log?: HttpLog;
}

/** The limits used when the options leave them out. */
export const DEFAULT_LIMITS: ConnectionLimits & {
  readonly maxConnections: number;
  readonly closeGraceMs: number;
} = {
  maxConnections: 1024,
  maxHeadBytes: 16 * 1024,
  maxHeaders: 100,
  maxBodyBytes: 1024 * 1024,
  headTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  idleTimeoutMs: 5_000,
  writeTimeoutMs: 10_000,
  lingerMs: 1_000,
  closeGraceMs: 2_000,
};

/** Connections being refused at once at most; beyond, they are just closed. */
const MAX_REFUSING = 64;
const SILENT: HttpLog = { info() {}, warn() {}, error() {} };
/** Counters for metrics and logs. */
export interface HttpServerCounters {
  /** Connections accepted and served. */
  accepted: number;
  /** Connections refused by the cap. */
  refused: number;
  /** Failed accepts (such as running out of file descriptors). */
  acceptErrors: number;
}

/** The HTTP listener and its connections. */
export class HttpServer implements AsyncDisposable {
  readonly counters: HttpServerCounters = {
    accepted: 0,
    refused: 0,
    acceptErrors: 0,
  };
  readonly #listener: Deno.TcpListener;
  readonly #handler: HttpHandler;
  readonly #limits: ConnectionLimits;
  readonly #maxConnections: number;
  readonly #closeGraceMs: number;
  readonly #log: HttpLog;
  readonly #connections = new Map<HttpConnection, Promise<void>>();
  readonly #refusing = new Set<Promise<void>>();
  readonly #reaper: ReturnType<typeof setInterval>;
  readonly #clock: CoarseClock = { nowMs: performance.now() };
  readonly #accepting: Promise<void>;
  #closed: Promise<void> | undefined;

  private constructor(
    listener: Deno.TcpListener,
    handler: HttpHandler,
    options: HttpServerOptions,
  ) {
    const limits = { ...DEFAULT_LIMITS, ...withoutUndefined(options) };
    this.#listener = listener;
    this.#handler = handler;
    this.#limits = limits;
    this.#maxConnections = limits.maxConnections;
    this.#closeGraceMs = limits.closeGraceMs;
    this.#log = options.log ?? SILENT;
    this.#reaper = setInterval(() => this.#reap(), reapEveryMs(limits));
    this.#accepting = this.#accept();
  }

  /** Binds the socket and starts serving; throws if it cannot bind. */
  static listen(options: HttpServerOptions, handler: HttpHandler): HttpServer {
    const listener = Deno.listen({
      hostname: options.hostname,
      port: options.port,
    });
    return new HttpServer(listener, handler, options);
  }

  /** The bound address, with the actual port. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** Open connections (`ztick_connections{protocol="http"}`). */
  get connections(): number {
    return this.#connections.size;
  }

  #accept(): Promise<void> {
    return acceptLoop(
      this.#listener,
      (conn) => this.#serve(conn),
      (error, pauseMs) => {
        this.counters.acceptErrors++;
        if (pauseMs > 0) {
          this.#log.error(`http accept failed, retrying shortly: ${error}`);
        }
      },
    );
  }

  #serve(conn: Deno.TcpConn): void {
    if (this.#connections.size >= this.#maxConnections) {
      this.#refuse(conn);
      return;
    }
    this.counters.accepted++;
    conn.setNoDelay(true);
    const connection = new HttpConnection(conn, this.#handler, {
      limits: this.#limits,
      clock: this.#clock,
      log: this.#log,
    });
    const served = connection.serve().finally(() =>
      this.#connections.delete(connection)
    );
    this.#connections.set(connection, served);
  }

  /** Answers 503 and closes (after a short drain, so the answer arrives). */
  #refuse(conn: Deno.TcpConn): void {
    this.counters.refused++;
    this.#log.warn(
      `http connection from ${
        formatAddr(conn.remoteAddr)
      } refused: ${this.#maxConnections} connections open`,
    );
    if (this.#refusing.size >= MAX_REFUSING) {
      closeQuietly(conn);
      return;
    }
    const busy = encodeResponse(ANSWERS.busy, {
      version: "1.1",
      headOnly: false,
      keepAlive: false,
    });
    const refusing = drainAndClose(conn, busy, this.#limits.lingerMs)
      .finally(() => this.#refusing.delete(refusing));
    this.#refusing.add(refusing);
  }

  /** Wakes every connection whose deadline has passed. */
  #reap(): void {
    const nowMs = this.#clock.nowMs = performance.now();
    for (const connection of this.#connections.keys()) {
      if (connection.deadlineMs <= nowMs) connection.expire();
    }
  }

  /**
   * Stops accepting, closes idle connections, lets responses under way
   * finish for up to `closeGraceMs`, then closes the rest.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    closeQuietly(this.#listener);
    await this.#accepting;
    for (const connection of this.#connections.keys()) connection.shutdown();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#closeGraceMs);
    });
    await Promise.race([Promise.all(this.#connections.values()), grace]);
    clearTimeout(timer);
    for (const connection of this.#connections.keys()) connection.close();
    await Promise.all([...this.#connections.values(), ...this.#refusing]);
    clearInterval(this.#reaper);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Writes `bytes`, half-closes, drains input briefly, closes. Never throws. */
async function drainAndClose(
  conn: Deno.TcpConn,
  bytes: Uint8Array,
  lingerMs: number,
): Promise<void> {
  const timer = setTimeout(() => closeQuietly(conn), lingerMs);
  try {
    await conn.write(bytes); // a fresh socket's send buffer takes it at once
    await conn.closeWrite();
    const scratch = new Uint8Array(4096);
    for (let n = 0; n < 64 * 1024;) {
      const read = await conn.read(scratch);
      if (read === null) break;
      n += read;
    }
  } catch {
    // reset by the peer, or closed by the timer
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
}

/** Deadlines are checked this often: a tenth of the shortest, 10 ms–1 s. */
function reapEveryMs(limits: ConnectionLimits): number {
  const shortest = Math.min(
    limits.headTimeoutMs,
    limits.bodyTimeoutMs,
    limits.idleTimeoutMs,
    limits.writeTimeoutMs,
    limits.lingerMs,
  );
  return Math.min(1000, Math.max(10, Math.floor(shortest / 10)));
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
