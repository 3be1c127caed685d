/**
 * Server-side TLS over an accepted TCP connection, closable at any moment.
 *
 * `Deno.listenTls` connections cannot be closed before their handshake
 * completes: `close()` waits for the handshake, so a client that never sends
 * a ClientHello keeps its socket open forever, past the AUTH deadline and
 * outside the connection cap (spec: protocol.md §1, §9). Here the socket is
 * a plain `Deno.TcpConn` that is closed directly, and TLS runs on top of it
 * through `node:tls`.
 *
 * @module
 */
import { Duplex } from "node:stream";
import tls from "node:tls";
import { closeQuietly, writeAll } from "../io.ts";

/** How long a close waits to flush answers and close_notify to a slow reader. */
const CLOSE_GRACE_MS = 1000;
/** Decrypted bytes waiting for the reader beyond which the socket is not read. */
const READ_AHEAD_BYTES = 64 * 1024;
/** Bytes written but not yet on the socket beyond which `write` waits. */
const WRITE_BEHIND_BYTES = 64 * 1024;

/** What a protocol connection needs of its transport. */
export interface ByteConn {
  readonly remoteAddr: Deno.Addr;
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
  /** Set when `close()` finishes later (a TLS goodbye); resolves then. */
  readonly closed?: Promise<void>;
}

/** PEM texts of the server's certificate chain and private key. */
export interface TlsPem {
  readonly cert: string;
  readonly key: string;
}

/**
 * Checks a certificate and key as Deno's TLS stack reads them and builds the
 * context connections share.
 *
 * @throws {Error} when either PEM holds nothing usable or they do not match.
 */
export function createTlsContext(pem: TlsPem): tls.SecureContext {
  // Parses both PEMs and checks that the key matches the certificate, with
  // the messages `Deno.listenTls` would give; node:tls checks neither.
  Deno.createHttpClient({ cert: pem.cert, key: pem.key }).close();
  return tls.createSecureContext({ cert: pem.cert, key: pem.key });
}

/**
 * The server side of a TLS session over `tcp`. Reads resolve with
 * plaintext once the handshake is done; `close()` closes the socket at
 * once, handshake or not.
 */
export class TlsServerConn implements ByteConn {
  readonly #tcp: Deno.TcpConn;
  readonly #socket: tls.TLSSocket;
  /**
   * Restarts reading the encrypted side. node:tls here neither stops
   * reading it when nobody reads the plaintext nor makes writes wait for
   * it, so both kinds of back-pressure are done in this class.
   */
  readonly #resumeRaw: () => void;
  /** Plaintext given to node:tls; its ciphertext is at least as long. */
  #plainWritten = 0;
  /** Ciphertext (handshake included) the socket has taken. */
  #cipherFlushed = 0;
  #pending: Uint8Array | undefined;
  #secure = false;
  #closing = false;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  readonly #closed = Promise.withResolvers<void>();

  constructor(tcp: Deno.TcpConn, context: tls.SecureContext) {
    this.#tcp = tcp;
    const raw = duplexOver(tcp, {
      isFull: () =>
        this.#socket.readableLength + (this.#pending?.length ?? 0) >=
          READ_AHEAD_BYTES,
      flushed: (bytes) => {
        this.#cipherFlushed += bytes;
        this.#wakeUp();
      },
    });
    this.#resumeRaw = raw.resume;
    this.#socket = new tls.TLSSocket(raw.duplex, {
      isServer: true,
      secureContext: context,
    });
    const wake = () => this.#wakeUp();
    this.#socket.on("secure", () => this.#secure = true);
    this.#socket.on("readable", wake);
    this.#socket.on("end", () => {
      this.#ended = true;
      wake();
    });
    this.#socket.on("close", () => {
      this.#ended = true;
      wake();
    });
    this.#socket.on("error", (error: Error) => {
      this.#error ??= error;
      wake();
    });
  }

  get remoteAddr(): Deno.Addr {
    return this.#tcp.remoteAddr;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    for (;;) {
      const pending = this.#pending ?? this.#socket.read();
      if (pending !== null && pending !== undefined) {
        const n = Math.min(buffer.length, pending.length);
        buffer.set(pending.subarray(0, n));
        this.#pending = n < pending.length ? pending.subarray(n) : undefined;
        this.#resumeRaw();
        return n;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await this.#waitForEvent();
    }
  }

  async write(bytes: Uint8Array): Promise<number> {
    if (this.#error) throw this.#error;
    if (this.#ended) throw new Deno.errors.BrokenPipe("connection closed");
    // Copy: the caller may reuse its buffer while node still holds ours.
    this.#socket.write(bytes.slice());
    this.#plainWritten += bytes.length;
    // Resolves once nearly all of it is on the socket, so a client that
    // does not read stalls this connection's reading too (TCP
    // back-pressure, as for plain connections).
    while (this.#plainWritten - this.#cipherFlushed > WRITE_BEHIND_BYTES) {
      if (this.#error) throw this.#error;
      if (this.#ended) throw new Deno.errors.BrokenPipe("connection closed");
      await this.#waitForEvent();
    }
    return bytes.length;
  }

  /**
   * After the handshake: flushes what was written, sends close_notify and
   * closes, giving a client that does not read at most 1 s. Before it:
   * closes the socket at once.
   */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#ended = true;
    this.#wakeUp();
    if (!this.#secure || this.#socket.destroyed) return this.#destroy();
    const timer = setTimeout(() => this.#destroy(), CLOSE_GRACE_MS);
    const done = () => {
      clearTimeout(timer);
      this.#destroy();
    };
    this.#socket.once("error", done);
    this.#socket.once("close", done);
    this.#socket.end(done);
  }

  /** Resolves once the socket is closed after {@link close}. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  #destroy(): void {
    this.#socket.destroy();
    closeQuietly(this.#tcp);
    this.#closed.resolve();
  }

  #wakeUp(): void {
    const resolve = this.#wake;
    this.#wake = undefined;
    resolve?.();
  }

  #waitForEvent(): Promise<void> {
    return new Promise((resolve) => {
      const previous = this.#wake;
      this.#wake = () => {
        previous?.();
        resolve();
      };
    });
  }
}

/**
 * A node stream over a Deno TCP connection. The socket is read only while
 * `isFull()` says there is room, and `resume()` restarts a paused reading;
 * `flushed` hears of every write the socket has taken.
 */
function duplexOver(
  tcp: Deno.TcpConn,
  { isFull, flushed }: { isFull(): boolean; flushed(bytes: number): void },
): { duplex: Duplex; resume(): void } {
  let reading = false;
  let paused = false;
  const pull = () => {
    if (reading) return;
    if (isFull()) {
      paused = true;
      return;
    }
    reading = true;
    const buffer = new Uint8Array(64 * 1024);
    tcp.read(buffer).then((n) => {
      reading = false;
      duplex.push(n === null ? null : buffer.subarray(0, n));
    }, (error) => duplex.destroy(error));
  };
  const duplex = new Duplex({
    read: pull,
    write(chunk: Uint8Array, _encoding, callback) {
      writeAll(tcp, chunk).then(() => {
        flushed(chunk.length);
        callback();
      }, callback);
    },
    final(callback) {
      tcp.closeWrite().then(() => callback(), () => callback());
    },
    destroy(error, callback) {
      closeQuietly(tcp);
      callback(error);
    },
  });
  return {
    duplex,
    resume() {
      if (!paused || isFull()) return;
      paused = false;
      pull();
    },
  };
}
