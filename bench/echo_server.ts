/**
 * Line "echo" server for the load generator's ceiling, in Deno: answers
 * `OK\n` for every LF received, one write per read chunk. Prints its port
 * on stdout. Run by bench/main.ts as a subprocess (`--allow-net`).
 *
 * @module
 */
const MAX_LINES = 1 << 16;
const OK = new TextEncoder().encode("OK\n".repeat(MAX_LINES));

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
Deno.stdout.writeSync(
  new TextEncoder().encode(`${(listener.addr as Deno.NetAddr).port}\n`),
);
for await (const conn of listener) serve(conn as Deno.TcpConn);

async function serve(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      const chunk = buffer.subarray(0, n);
      let lines = 0;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
        lines++;
      }
      let bytes = OK.subarray(0, 3 * lines);
      while (bytes.length > 0) bytes = bytes.subarray(await conn.write(bytes));
    }
  } catch { /* peer went away */ }
  try {
    conn.close();
  } catch { /* already closed */ }
}
