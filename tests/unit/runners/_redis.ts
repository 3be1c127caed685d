/** The broker gate, runner builders and connection probes shared by redis_test.ts and redis_auth_test.ts. */
import type { RedisRunner } from "../../../src/runners/redis.ts";
import {
  BROKER_HOST,
  REDIS_PORT,
  redisGate,
  type RedisServer,
  startRedisServer,
} from "../../_helpers/brokers.ts";

export const gate = await redisGate();
export const REDIS_URL = `redis://${BROKER_HOST}:${REDIS_PORT}`;
export const PASSWORD = "top:secret@1";
export const ALICE_PASSWORD = "p@ss:w/rd";

export function redis(
  url: string,
  command: RedisRunner["command"],
  key: string,
): RedisRunner {
  return { kind: "redis", url, command, key };
}

/** Starts a server with a default-user password and an ACL user alice. */
export function startSecuredServer(): Promise<RedisServer> {
  return startRedisServer([
    "--requirepass",
    PASSWORD,
    "--user",
    "alice",
    "on",
    `>${ALICE_PASSWORD}`,
    "~*",
    "&*",
    "+@all",
  ]);
}

export function reasonOf(outcome: { ok: boolean; reason?: string }): string {
  return outcome.reason ?? "";
}

/** Collects what a connection receives until a marker shows up (2 s max). */
export function readUntil(
  conn: Deno.Conn,
): { until(marker: string): Promise<string> } {
  let text = "";
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(4096);
  return {
    async until(marker: string): Promise<string> {
      const deadline = Date.now() + 2_000;
      while (!text.includes(marker)) {
        if (Date.now() > deadline) throw new Error(`never received ${marker}`);
        const read = await conn.read(buffer);
        if (read === null) throw new Error("subscriber connection closed");
        text += decoder.decode(buffer.subarray(0, read), { stream: true });
      }
      return text;
    },
  };
}
