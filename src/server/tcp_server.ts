import { logger } from "../log.ts";
import { Connection, type ConnectionContext } from "./connection.ts";
import { formatAddr } from "../io.ts";
import { acceptLoop } from "./_accept.ts";
import { createTlsContext, TlsServerConn } from "./tls.ts";
import { errorMessage } from "../errors.ts";

const log = logger("server");

/** Where and how the protocol server listens. */
export interface TcpServerOptions {
  readonly hostname: string;
  readonly port: number;
  /** PEM texts; when set the port speaks TLS only (spec: protocol.md §1). */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Connections beyond this many are closed at once. */
  readonly maxConnections: number;
}

/** The TCP (or TLS) listener of the line protocol, tracking its clients. */
export class TcpServer implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  /** What new connections get; each keeps the one it was accepted with. */
  #context: ConnectionContext;
  readonly #maxConnections: number;
  readonly #connections = new Map<Connection, Promise<void>>();
  readonly #accepting: Promise<void>;
  #tls: ReturnType<typeof createTlsContext> | undefined;

  private constructor(
    listener: Deno.TcpListener,
    context: ConnectionContext,
    maxConnections: number,
    tls: ReturnType<typeof createTlsContext> | undefined,
  ) {
    this.#listener = listener;
    this.#context = context;
    this.#maxConnections = maxConnections;
    this.#tls = tls;
    this.#accepting = this.#accept();
  }

  /** Binds the socket and starts accepting; throws if it cannot bind. */
  static listen(
    options: TcpServerOptions,
    context: ConnectionContext,
  ): TcpServer {
    const { hostname, port, tls } = options;
    // TLS runs over a plain TCP listener so that a connection can be closed
    // before its handshake completes (see tls.ts).
    const tlsContext = tls ? createTlsContext(tls) : undefined;
    const listener = Deno.listen({ hostname, port });
    return new TcpServer(
      listener,
      context,
      options.maxConnections,
      tlsContext,
    );
  }

  /** The bound address, with the actual port. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr as Deno.NetAddr;
  }

  /**
   * Gives connections accepted from now on another authenticator and, on a
   * TLS port, another certificate; open connections keep theirs (spec:
   * configuration.md §1, SIGHUP).
   *
   * @throws {Error} when the certificate or key is not usable; nothing
   *   changes then.
   */
  reload(
    context: ConnectionContext,
    tls?: { readonly cert: string; readonly key: string },
  ): void {
    const tlsContext = tls === undefined ? this.#tls : createTlsContext(tls);
    this.#context = context;
    this.#tls = tlsContext;
  }

  /** Open protocol connections (STAT `connections`). */
  get connections(): number {
    return this.#connections.size;
  }

  #accept(): Promise<void> {
    return acceptLoop(
      this.#listener,
      (conn) => this.#serve(conn),
      (error, pauseMs) => {
        const reason = errorMessage(error);
        if (pauseMs === 0) {
          // A peer that reset before its connection was accepted, say:
          // nothing to wait for, and the next client must not wait either.
          log.debug(`accept failed: ${reason}`, { reason });
        } else {
          log.error(`accept failed, retrying shortly: ${reason}`, { reason });
        }
      },
    );
  }

  #serve(conn: Deno.TcpConn): void {
    if (this.#connections.size >= this.#maxConnections) {
      const peer = formatAddr(conn.remoteAddr);
      log.warn(
        `connection from ${peer} refused: ${this.#maxConnections} connections open`,
        { peer },
      );
      conn.close();
      return;
    }
    conn.setNoDelay(true);
    const connection = new Connection(
      this.#tls ? new TlsServerConn(conn, this.#tls) : conn,
      this.#context,
    );
    const served = connection.serve().finally(() =>
      this.#connections.delete(connection)
    );
    this.#connections.set(connection, served);
  }

  /** Stops accepting and closes every connection. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    await this.#accepting;
    for (const connection of this.#connections.keys()) connection.close();
    await Promise.all(this.#connections.values());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
