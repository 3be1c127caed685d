import { fail, parseDecimal, parseHostPort, percentDecode } from "./_url.ts";
import { DETAIL } from "../domain/run.ts";
import type { Runner } from "../domain/runner.ts";
import type { Execution, Outcome } from "../scheduler/ports.ts";
import { errorMessage } from "../errors.ts";
import { concat, writeAll } from "../io.ts";
import {
  exchangeFailure,
  type ExchangeOptions,
  type ExchangeTarget,
  runExchange,
} from "./_exchange.ts";

const DEFAULT_PORT = 6379;
const PREFIX = "redis://";
const CRLF = new Uint8Array([13, 10]);

/** A redis rule's runner. */
export type RedisRunner = Extract<Runner, { kind: "redis" }>;

/** Where and as whom a redis runner connects, decoded from its URL. */
export interface RedisTarget {
  /** Host name or IP address; an IPv6 literal without its brackets. */
  readonly host: string;
  readonly port: number;
  /** Database index 0–255; `SELECT` is sent only when it is not 0. */
  readonly db: number;
  /** Absent when the URL has none or an empty one. */
  readonly user?: string;
  /** Absent when the URL has none or an empty one. */
  readonly password?: string;
}

/** Tuning for tests; production code passes nothing. */
export type RedisOptions = ExchangeOptions;

/**
 * Decodes `redis://[[<user>][:<password>]@]<host>[:<port>][/<db>]`
 * (spec: runners.md §8). Messages never contain the userinfo.
 *
 * @throws {SyntaxError} when the URL breaks a rule of the spec's table
 *
 * @example Userinfo is split at the first colon and percent-decoded
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRedisUrl } from "./redis.ts";
 *
 * assert.deepEqual(parseRedisUrl("redis://app:p%40ss:w@[::1]:6380/3"), {
 *   host: "::1",
 *   port: 6380,
 *   db: 3,
 *   user: "app",
 *   password: "p@ss:w",
 * });
 * assert.deepEqual(parseRedisUrl("redis://:secret@cache"), {
 *   host: "cache",
 *   port: 6379,
 *   db: 0,
 *   password: "secret",
 * });
 * assert.throws(() => parseRedisUrl("redis://cache/256"), SyntaxError);
 * ```
 */
export function parseRedisUrl(url: string): RedisTarget {
  if (!url.startsWith(PREFIX)) fail("scheme must be redis://");
  const rest = url.slice(PREFIX.length);
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash + 1);
  const at = authority.lastIndexOf("@");
  const { host, port } = parseHostPort(authority.slice(at + 1), DEFAULT_PORT);
  const target: { -readonly [K in keyof RedisTarget]: RedisTarget[K] } = {
    host,
    port,
    db: path === "" ? 0 : parseDecimal(path, 255, "db"),
  };
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(":");
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    const password = colon < 0 ? "" : userinfo.slice(colon + 1);
    if (user !== "") target.user = percentDecode(user, "user");
    if (password !== "") target.password = percentDecode(password, "password");
  }
  return target;
}

/**
 * Sends `[AUTH]`, `[SELECT]` and `<COMMAND> <key> <job id>` on a fresh
 * connection, each followed by its reply; any error reply, connect error,
 * early close, abort of `execution.signal` or the 30 s limit is a failure
 * (spec: runners.md §8). Never throws; reasons carry no credentials.
 */
export async function runRedis(
  runner: RedisRunner,
  execution: Execution,
  options: RedisOptions = {},
): Promise<Outcome> {
  let redis: RedisTarget;
  try {
    redis = parseRedisUrl(runner.url);
  } catch (error) {
    return {
      ok: false,
      reason: `Cannot parse redis URL: ${errorMessage(error)}`,
      detail: DETAIL.error,
    };
  }
  const target: ExchangeTarget = {
    host: redis.host,
    port: redis.port,
    action: `${runner.command} "${runner.key}"`,
    where: `redis://${
      redis.host.includes(":") ? `[${redis.host}]` : redis.host
    }:${redis.port}/${redis.db}`,
    ...(redis.password ? { secret: redis.password } : {}),
  };
  const commands = redisCommands(redis, runner, execution.job.id);
  return await runExchange(target, execution, options, async (conn) => {
    const reader = new ReplyReader(conn);
    for (const command of commands) {
      await writeAll(conn, encodeCommand(command));
      const reply = await reader.readReply();
      if (reply.startsWith("-")) {
        return exchangeFailure(target, `${command[0]} answered ${reply}`);
      }
    }
    return { ok: true, detail: DETAIL.ok };
  });
}

/** The commands of one execution: `[AUTH]`, `[SELECT]`, then the runner's. */
function redisCommands(
  target: RedisTarget,
  runner: RedisRunner,
  jobId: string,
): string[][] {
  const commands: string[][] = [];
  if (target.password !== undefined) {
    commands.push(
      target.user === undefined
        ? ["AUTH", target.password]
        : ["AUTH", target.user, target.password],
    );
  }
  if (target.db !== 0) commands.push(["SELECT", String(target.db)]);
  commands.push([runner.command, runner.key, jobId]);
  return commands;
}

/** Encodes one command as a RESP2 array of bulk strings. */
function encodeCommand(args: readonly string[]): Uint8Array {
  const encoder = new TextEncoder();
  const parts = [encoder.encode(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = encoder.encode(arg);
    parts.push(encoder.encode(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return concat(parts);
}

/** Reads RESP2 replies; each is returned as its first line, payloads skipped. */
class ReplyReader {
  readonly #conn: Deno.Conn;
  #buffer: Uint8Array = new Uint8Array(0);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Reads one whole reply; an error reply comes back as `-<text>`. */
  async readReply(): Promise<string> {
    const line = await this.#readLine();
    const type = line[0];
    if (type === "+" || type === "-" || type === ":") return line;
    const count = Number(line.slice(1));
    if ((type !== "$" && type !== "*") || !Number.isSafeInteger(count)) {
      throw new Error(`unexpected reply "${line.slice(0, 40)}"`);
    }
    if (type === "$" && count >= 0) await this.#take(count + 2);
    for (let i = 0; type === "*" && i < count; i++) await this.readReply();
    return line;
  }

  async #readLine(): Promise<string> {
    for (;;) {
      const end = this.#buffer.indexOf(10);
      if (end > 0 && this.#buffer[end - 1] === 13) {
        const line = this.#buffer.subarray(0, end - 1);
        this.#buffer = this.#buffer.subarray(end + 1);
        return new TextDecoder().decode(line);
      }
      await this.#fill();
    }
  }

  async #take(length: number): Promise<Uint8Array> {
    while (this.#buffer.length < length) await this.#fill();
    const bytes = this.#buffer.subarray(0, length);
    this.#buffer = this.#buffer.subarray(length);
    return bytes;
  }

  async #fill(): Promise<void> {
    const chunk = new Uint8Array(16 * 1024);
    const read = await this.#conn.read(chunk);
    if (read === null) throw new Error("connection closed early");
    this.#buffer = concat([this.#buffer, chunk.subarray(0, read)]);
  }
}
