import { fail, parseHostPort, percentDecode } from "./_url.ts";
import { DETAIL } from "../domain/run.ts";
import type { Runner } from "../domain/runner.ts";
import type { Execution, Outcome } from "../scheduler/ports.ts";
import { errorMessage } from "../errors.ts";
import { concat, utf8Length } from "../io.ts";
import {
  closeArguments,
  closeReason,
  encode,
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_METHOD,
  FRAME_OVERHEAD,
  FrameIo,
  isMethod,
  MAX_FRAME_BYTES,
  METHOD,
  MIN_FRAME_BYTES,
  PROTOCOL_HEADER,
  Writer,
} from "./_amqp_frames.ts";
import {
  exchangeFailure,
  type ExchangeOptions,
  type ExchangeTarget,
  runExchange,
} from "./_exchange.ts";

const DEFAULT_PORT = 5672;
const PREFIX = "amqp://";
const CHANNEL_MAX = 2047;

/** An amqp rule's runner. */
export type AmqpRunner = Extract<Runner, { kind: "amqp" }>;

/** Where and as whom an amqp runner connects, decoded from its DSN. */
export interface AmqpTarget {
  /** Host name or IP address; an IPv6 literal without its brackets. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Empty when the DSN has none. */
  readonly password: string;
  readonly vhost: string;
}

/** Tuning for tests; production code passes nothing. */
export type AmqpOptions = ExchangeOptions;

/**
 * Decodes `amqp://<user>[:<password>]@<host>[:<port>][/<vhost>]`
 * (spec: runners.md §7). Messages never contain the userinfo.
 *
 * @throws {SyntaxError} when the DSN breaks a rule of the spec's table
 *
 * @example Last `@` ends the userinfo, `%2F` decodes to `/`
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAmqpDsn } from "./amqp.ts";
 *
 * assert.deepEqual(parseAmqpDsn("amqp://app:p@ss:w@[::1]:5673/%2Fjobs"), {
 *   host: "::1",
 *   port: 5673,
 *   user: "app",
 *   password: "p@ss:w",
 *   vhost: "/jobs",
 * });
 * assert.deepEqual(parseAmqpDsn("amqp://guest@mq"), {
 *   host: "mq",
 *   port: 5672,
 *   user: "guest",
 *   password: "",
 *   vhost: "/",
 * });
 * assert.throws(() => parseAmqpDsn("amqps://guest:guest@mq/"), SyntaxError);
 * ```
 */
export function parseAmqpDsn(dsn: string): AmqpTarget {
  if (!dsn.startsWith(PREFIX)) fail("scheme must be amqp://");
  const rest = dsn.slice(PREFIX.length);
  const slash = rest.indexOf("/");
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const at = authority.lastIndexOf("@");
  if (at < 0) fail("userinfo (user@) is required");
  const userinfo = authority.slice(0, at);
  const colon = userinfo.indexOf(":");
  const { host, port } = parseHostPort(authority.slice(at + 1), DEFAULT_PORT);
  const vhost = slash < 0 ? "" : percentDecode(rest.slice(slash + 1), "vhost");
  return {
    host,
    port,
    user: percentDecode(
      colon < 0 ? userinfo : userinfo.slice(0, colon),
      "user",
    ),
    password: colon < 0
      ? ""
      : percentDecode(userinfo.slice(colon + 1), "password"),
    vhost: vhost === "" ? "/" : vhost,
  };
}

/**
 * Publishes the job id as the body of one message to the runner's exchange
 * with its routing key, on a fresh connection closed afterwards; success
 * needs every step down to `Connection.Close-Ok` (spec: runners.md §7).
 * Never throws; any refusal, channel or connection close by the broker,
 * unexpected frame, abort of `execution.signal` or the 30 s limit is a
 * failure whose reason carries no credentials.
 */
export async function runAmqp(
  runner: AmqpRunner,
  execution: Execution,
  options: AmqpOptions = {},
): Promise<Outcome> {
  let amqp: AmqpTarget;
  try {
    amqp = parseAmqpDsn(runner.dsn);
  } catch (error) {
    return {
      ok: false,
      reason: `Cannot parse amqp DSN: ${errorMessage(error)}`,
      detail: DETAIL.error,
    };
  }
  const target: ExchangeTarget = {
    host: amqp.host,
    port: amqp.port,
    action: `publish to exchange "${runner.exchange}"`,
    where: `amqp://${
      amqp.host.includes(":") ? `[${amqp.host}]` : amqp.host
    }:${amqp.port}/${encodeURIComponent(amqp.vhost)}`,
    ...(amqp.password ? { secret: amqp.password } : {}),
  };
  const tooLong = utf8Length(runner.exchange) > 255
    ? "exchange"
    : utf8Length(runner.routingKey) > 255
    ? "routing key"
    : utf8Length(amqp.vhost) > 255
    ? "vhost"
    : undefined;
  if (tooLong) return exchangeFailure(target, `${tooLong} exceeds 255 bytes`);
  let io: FrameIo | undefined;
  return await runExchange(target, execution, options, async (conn) => {
    io = new FrameIo(conn);
    const refusal = await publish(io, amqp, runner, encode(execution.job.id));
    return refusal === undefined
      ? { ok: true, detail: DETAIL.ok }
      : exchangeFailure(target, refusal);
  }, () => ` (during ${io?.step ?? "connect"})`);
}

/**
 * Runs steps 1–8 of the exchange. Returns why the broker closed the channel
 * (the connection is still closed cleanly then), or nothing on success;
 * throws on any other problem.
 */
async function publish(
  io: FrameIo,
  target: AmqpTarget,
  runner: AmqpRunner,
  body: Uint8Array,
): Promise<string | undefined> {
  const frameMax = await openConnection(io, target);
  io.step = "channel open";
  await io.sendMethod(1, METHOD.channelOpen, new Writer().shortString(""));
  await io.expect(1, METHOD.channelOpenOk);
  io.step = "publish";
  await io.write(publishFrames(io, runner, body, frameMax));
  const refusal = await awaitChannelClose(io);
  io.step = "connection close";
  await io.write(
    io.frame(FRAME_METHOD, 0, closeArguments(METHOD.connectionClose)),
  );
  for (;;) {
    const next = await io.readMethod();
    if (refusal !== undefined && next.channel === 1) continue;
    await io.check(next, 0, METHOD.connectionCloseOk);
    return refusal;
  }
}

/** Handshake, login, tuning and vhost open; returns the frame size agreed. */
async function openConnection(
  io: FrameIo,
  target: AmqpTarget,
): Promise<number> {
  io.step = "handshake";
  await io.write(PROTOCOL_HEADER);
  await io.expect(0, METHOD.connectionStart);
  await io.sendMethod(
    0,
    METHOD.connectionStartOk,
    new Writer()
      .long(0) // empty client-properties table
      .shortString("PLAIN")
      .longString(
        concat([
          new Uint8Array([0]),
          encode(target.user),
          new Uint8Array([0]),
          encode(target.password),
        ]),
      )
      .shortString("en_US"),
  );
  // A broker refusing PLAIN credentials just drops the connection here.
  io.step = "login";
  const tune = await io.expect(0, METHOD.connectionTune);
  tune.short(); // channel-max: the spec fixes ours
  const brokerFrameMax = tune.long();
  const frameMax = brokerFrameMax === 0
    ? MAX_FRAME_BYTES
    : Math.min(brokerFrameMax, MAX_FRAME_BYTES);
  if (frameMax < MIN_FRAME_BYTES) {
    throw new Error(`broker frame-max ${frameMax} is below ${MIN_FRAME_BYTES}`);
  }
  await io.sendMethod(
    0,
    METHOD.connectionTuneOk,
    new Writer().short(CHANNEL_MAX).long(frameMax).short(0),
  );
  io.step = "vhost open";
  await io.sendMethod(
    0,
    METHOD.connectionOpen,
    new Writer().shortString(target.vhost).shortString("").octet(0),
  );
  await io.expect(0, METHOD.connectionOpenOk);
  return frameMax;
}

/** Basic.Publish, its content header and body, then Channel.Close. */
function publishFrames(
  io: FrameIo,
  runner: AmqpRunner,
  body: Uint8Array,
  frameMax: number,
): Uint8Array {
  const frames = [
    io.frame(
      FRAME_METHOD,
      1,
      new Writer().method(METHOD.basicPublish).short(0)
        .shortString(runner.exchange).shortString(runner.routingKey)
        .octet(0) // mandatory = false, immediate = false
        .bytes(),
    ),
    io.frame(
      FRAME_HEADER,
      1,
      new Writer().short(METHOD.basicPublish[0]).short(0)
        .longLong(body.length).short(0).bytes(),
    ),
  ];
  const chunkBytes = frameMax - FRAME_OVERHEAD;
  for (let offset = 0; offset < body.length; offset += chunkBytes) {
    frames.push(
      io.frame(FRAME_BODY, 1, body.subarray(offset, offset + chunkBytes)),
    );
  }
  frames.push(io.frame(FRAME_METHOD, 1, closeArguments(METHOD.channelClose)));
  return concat(frames);
}

/**
 * Reads the answer to our Channel.Close. The broker may have closed the
 * channel already (a missing exchange is a 404): then it sends Channel.Close
 * instead of Channel.Close-Ok, and its reason is returned.
 */
async function awaitChannelClose(io: FrameIo): Promise<string | undefined> {
  const answer = await io.readMethod();
  if (answer.channel === 1 && isMethod(answer.id, METHOD.channelClose)) {
    const refusal = `broker closed the channel: ${closeReason(answer.reader)}`;
    await io.sendMethod(1, METHOD.channelCloseOk, new Writer());
    // Its answer to our own crossing Channel.Close may still come: the
    // caller skips anything on channel 1.
    return refusal;
  }
  await io.check(answer, 1, METHOD.channelCloseOk);
  return undefined;
}
