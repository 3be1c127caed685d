/**
 * Helpers for tests that run against the real brokers: a local Redis on
 * 127.0.0.1:6379 and RabbitMQ on 127.0.0.1:5672 (guest/guest). A test whose
 * broker is absent is skipped with a visible reason, except with `CI=true`,
 * where it runs and fails.
 */
import type { Execution } from "../../src/scheduler/ports.ts";

/** Where the shared test brokers listen. */
export const BROKER_HOST = "127.0.0.1";
export const REDIS_PORT = 6379;
export const AMQP_PORT = 5672;
const PROBE_LIMIT_MS = 2_000;

/** Tells whether a Redis server answers PING on 127.0.0.1:6379. */
export async function redisAvailable(port = REDIS_PORT): Promise<boolean> {
  const reply = await probe(port, new TextEncoder().encode("PING\r\n"));
  const text = new TextDecoder().decode(reply);
  return text.startsWith("+PONG") || text.startsWith("-NOAUTH");
}

/** Tells whether an AMQP 0-9-1 broker sends Connection.Start on 127.0.0.1:5672. */
export async function amqpAvailable(port = AMQP_PORT): Promise<boolean> {
  const reply = await probe(
    port,
    new Uint8Array([65, 77, 81, 80, 0, 0, 9, 1]),
  );
  // method frame on channel 0, class 10 (connection), method 10 (start)
  return reply.length >= 11 && reply[0] === 1 && reply[8] === 10 &&
    reply[10] === 10;
}

/** How tests that need one broker are registered. */
export interface BrokerGate {
  /** Passed to `Deno.test`'s `ignore`. */
  readonly ignore: boolean;
  /** Appended to test names: the visible skip reason, or nothing. */
  readonly suffix: string;
}

/**
 * Decides how tests needing a broker run: normally when it is there,
 * skipped with a reason when it is not, and failing under `CI=true`
 * (where a missing broker is a broken setup, not a reason to skip).
 */
export function brokerGate(what: string, available: boolean): BrokerGate {
  if (available) return { ignore: false, suffix: "" };
  if (Deno.env.get("CI") === "true") {
    Deno.test(`${what} is reachable (required with CI=true)`, () => {
      throw new Error(`no ${what}, and CI=true forbids skipping its tests`);
    });
    return { ignore: false, suffix: "" };
  }
  return { ignore: true, suffix: ` (skipped: no ${what})` };
}

/** The gate of tests needing the local Redis. */
export async function redisGate(): Promise<BrokerGate> {
  return brokerGate(
    `redis on ${BROKER_HOST}:${REDIS_PORT}`,
    await redisAvailable(),
  );
}

/** The gate of tests needing the local RabbitMQ. */
export async function rabbitGate(): Promise<BrokerGate> {
  return brokerGate(
    `rabbitmq on ${BROKER_HOST}:${AMQP_PORT}`,
    await amqpAvailable(),
  );
}

/** Registers a test behind a broker gate. */
export function gatedTest(
  gate: BrokerGate,
  name: string,
  fn: () => Promise<void>,
): void {
  Deno.test({ name: name + gate.suffix, ignore: gate.ignore, fn });
}

/** An execution of `jobId` for rule `rule.test`, abortable by `signal`. */
export function testExecution(
  jobId: string,
  signal: AbortSignal = new AbortController().signal,
): Execution {
  return {
    job: {
      id: jobId,
      executionNs: 1_775_044_800_000_000_000n,
      status: "triggered",
    },
    rule: {
      id: "rule.test",
      pattern: "",
      runner: { kind: "shell", command: "true" },
    },
    signal,
  };
}

/** A name no other test run uses, for keys, queues and exchanges. */
export function uniqueName(prefix: string): string {
  return `ztick.test.${prefix}.${crypto.randomUUID()}`;
}

/** Finds a TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: BROKER_HOST, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Runs `redis-cli` against a port and returns its trimmed raw output. */
export async function redisCli(
  args: readonly string[],
  options: { port?: number; db?: number } = {},
): Promise<string> {
  const output = await new Deno.Command("redis-cli", {
    args: [
      "-h",
      BROKER_HOST,
      "-p",
      String(options.port ?? REDIS_PORT),
      "-n",
      String(options.db ?? 0),
      "--raw",
      ...args,
    ],
    stdin: "null",
    stderr: "null",
  }).output();
  if (!output.success) throw new Error(`redis-cli ${args.join(" ")} failed`);
  return new TextDecoder().decode(output.stdout).trimEnd();
}

/** A private `redis-server` for one test, stopped on dispose. */
export interface RedisServer extends AsyncDisposable {
  readonly port: number;
}

/**
 * Starts a throw-away `redis-server` on a free port with extra config
 * arguments (for example `--requirepass`), no persistence, and waits until
 * it accepts connections.
 */
export async function startRedisServer(
  args: readonly string[],
): Promise<RedisServer> {
  const port = freePort();
  const child = new Deno.Command("redis-server", {
    args: [
      "--port",
      String(port),
      "--bind",
      BROKER_HOST,
      "--save",
      "",
      "--appendonly",
      "no",
      ...args,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // already exited
    }
    await child.status;
  };
  const deadline = Date.now() + 5_000;
  while (!(await redisAvailable(port))) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server on port ${port} did not start`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { port, [Symbol.asyncDispose]: stop };
}

/** A TCP server that accepts connections and never answers. */
export interface SilentServer extends AsyncDisposable {
  readonly port: number;
  /** Resolves once the first connection was accepted. */
  readonly accepted: Promise<void>;
}

/** Starts a {@link SilentServer}: a broker that hangs after connecting. */
export function startSilentServer(): SilentServer {
  const listener = Deno.listen({ hostname: BROKER_HOST, port: 0 });
  const conns: Deno.Conn[] = [];
  const { promise: accepted, resolve } = Promise.withResolvers<void>();
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        conns.push(conn);
        resolve();
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted,
    async [Symbol.asyncDispose]() {
      listener.close();
      await loop;
      for (const conn of conns) conn.close();
    },
  };
}

/** Sends bytes to a port and returns the first chunk of its answer, if any. */
async function probe(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ hostname: BROKER_HOST, port });
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) return new Uint8Array();
    throw error;
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, PROBE_LIMIT_MS);
  try {
    await conn.write(bytes);
    const buffer = new Uint8Array(64);
    const read = await conn.read(buffer);
    return buffer.subarray(0, read ?? 0);
  } catch {
    return new Uint8Array(); // reset, or closed by the probe limit
  } finally {
    clearTimeout(timer);
    if (!timedOut) conn.close();
  }
}
