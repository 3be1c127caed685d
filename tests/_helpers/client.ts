/** A line-protocol client for tests: send bytes, read answer lines. */
export class TestClient implements Disposable {
  readonly #conn: Deno.Conn;
  readonly #decoder = new TextDecoder();
  #buffer = "";
  #eof = false;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Opens a connection to a daemon on loopback. */
  static async connect(
    port: number,
    hostname = "127.0.0.1",
  ): Promise<TestClient> {
    return new TestClient(await Deno.connect({ hostname, port }));
  }

  /** Wraps an existing connection (a TLS one, say). */
  static wrap(conn: Deno.Conn): TestClient {
    return new TestClient(conn);
  }

  /** Sends text (or bytes) exactly as given. */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string"
      ? new TextEncoder().encode(data)
      : data;
    for (let written = 0; written < bytes.length;) {
      written += await this.#conn.write(bytes.subarray(written));
    }
  }

  /** Sends one line and returns the answer lines up to its final `OK`/`ERROR`. */
  async request(line: string): Promise<string> {
    await this.send(`${line}\n`);
    const requestId = line.split(" ")[0]!;
    const lines: string[] = [];
    for (;;) {
      const answer = await this.readLine();
      if (answer === undefined) {
        throw new Error(`EOF before the answer to "${line}"`);
      }
      lines.push(answer);
      if (
        answer === `${requestId} OK` || answer === `${requestId} ERROR` ||
        answer.startsWith(`${requestId} OK `) || answer === "OK" ||
        answer === "ERROR"
      ) {
        return lines.join("\n");
      }
    }
  }

  /** Reads one line (without LF), or `undefined` at EOF. */
  async readLine(): Promise<string | undefined> {
    for (;;) {
      const lf = this.#buffer.indexOf("\n");
      if (lf !== -1) {
        const line = this.#buffer.slice(0, lf);
        this.#buffer = this.#buffer.slice(lf + 1);
        return line;
      }
      if (!await this.#fill()) return undefined;
    }
  }

  /** Reads everything until the daemon closes the connection. */
  async readAll(): Promise<string> {
    while (await this.#fill());
    const rest = this.#buffer;
    this.#buffer = "";
    return rest;
  }

  /** Half-closes: the daemon sees EOF, as after `echo … | socat`. */
  async closeWrite(): Promise<void> {
    await (this.#conn as Deno.TcpConn).closeWrite();
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(65536);
    let n: number | null;
    try {
      n = await this.#conn.read(chunk);
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) n = null;
      else throw error;
    }
    if (n === null) {
      this.#eof = true;
      return false;
    }
    this.#buffer += this.#decoder.decode(chunk.subarray(0, n), {
      stream: true,
    });
    return true;
  }

  [Symbol.dispose](): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/** Sends a whole conversation, half-closes, and returns everything answered. */
export async function converse(
  port: number,
  text: string | Uint8Array,
): Promise<string> {
  using client = await TestClient.connect(port);
  await client.send(text);
  await client.closeWrite();
  return await client.readAll();
}

/** Polls `probe` until it returns a value other than `undefined`, or fails at the deadline. */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  { timeoutMs = 10_000, intervalMs = 10, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
