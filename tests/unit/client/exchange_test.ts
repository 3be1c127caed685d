import assert from "node:assert/strict";
import { ClientError, exchange } from "../../../src/client/exchange.ts";

/** A one-connection server answering each line with `answer(line)`. */
async function serve(
  answer: (line: string) => string | undefined,
  fn: (
    target: { hostname: string; port: number; text: string },
  ) => Promise<void>,
): Promise<string[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const lines: string[] = [];
  const served = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(1024);
    let text = "";
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        text += new TextDecoder().decode(buffer.subarray(0, n));
        for (let lf = text.indexOf("\n"); lf !== -1; lf = text.indexOf("\n")) {
          const line = text.slice(0, lf);
          text = text.slice(lf + 1);
          lines.push(line);
          const reply = answer(line);
          if (reply === undefined) return;
          await conn.write(new TextEncoder().encode(reply));
        }
      }
    } catch {
      // the client closed first
    } finally {
      conn.close();
    }
  })();
  try {
    const { port } = listener.addr;
    await fn({ hostname: "127.0.0.1", port, text: `127.0.0.1:${port}` });
  } finally {
    await served;
    listener.close();
  }
  return lines;
}

async function failsWith(promise: Promise<unknown>, message: string) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof ClientError);
    assert.equal(error.exitCode, 3);
    assert.equal(error.message, message);
    return true;
  });
}

const REQUEST = {
  requestId: "c1",
  line: "GET j",
  shape: "line",
  timeoutMs: 2000,
} as const;

Deno.test("exchange() sends AUTH first, then the request, and returns its answer", async () => {
  const lines = await serve(
    (line) => line.startsWith("AUTH") ? "OK\n" : "c1 OK planned 5\n",
    async (target) => {
      const answer = await exchange(target, {
        ...REQUEST,
        secret: "open sesame",
      });
      assert.deepEqual(answer, { kind: "ok", data: [], value: "planned 5" });
    },
  );
  assert.deepEqual(lines, ['AUTH "open sesame"', "c1 GET j"]);
});

Deno.test("exchange() fails with exit 3 on a refused AUTH and on a bare ERROR", async () => {
  await serve(() => "ERROR\n", async (target) => {
    await failsWith(
      exchange(target, { ...REQUEST, secret: "x" }),
      `authentication refused by ${target.text}`,
    );
  });
  await serve(() => "ERROR\n", async (target) => {
    await failsWith(
      exchange(target, REQUEST),
      `${target.text} requires authentication`,
    );
  });
});

Deno.test("exchange() gives up at its deadline and leaves nothing open", async () => {
  await serve(() => "", async (target) => {
    await failsWith(
      exchange(target, { ...REQUEST, timeoutMs: 100 }),
      `no answer from ${target.text} within 100ms`,
    );
  });
});

Deno.test("exchange() tells a TLS record from a plain answer", async () => {
  await serve(() => "\x15\x03\x03\x00\x02\x02\x32", async (target) => {
    await failsWith(
      exchange(target, REQUEST),
      `${target.text} speaks TLS: use --tls`,
    );
  });
  await serve(() => undefined, async (target) => {
    await failsWith(
      exchange(target, REQUEST),
      `connection closed by ${target.text} before the answer (a TLS port? then use --tls)`,
    );
  });
});
