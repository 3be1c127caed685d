import { createHash, timingSafeEqual } from "node:crypto";
import type { Authenticator } from "./connection.ts";

/** How long a new connection has to authenticate (spec: protocol.md §9). */
export const AUTH_DEADLINE_MS = 5000;
/** Pause before closing after a failed AUTH, so secrets cannot be guessed at line rate. */
export const AUTH_FAILURE_DELAY_MS = 250;

/** A secret and the namespace it grants (spec: configuration.md §4). */
export interface AuthToken {
  readonly secret: string;
  readonly namespace: string;
}

/**
 * Builds the secret check from an auth file's tokens: secrets are compared as
 * SHA-256 digests in constant time, so neither their content nor their
 * length leaks through timing (spec: protocol.md §9).
 */
export function createAuthenticator(
  secrets: readonly AuthToken[],
): Authenticator {
  const tokens = secrets.map((token) => ({
    digest: sha256(token.secret),
    namespace: token.namespace,
  }));
  return {
    deadlineMs: AUTH_DEADLINE_MS,
    failureDelayMs: AUTH_FAILURE_DELAY_MS,
    verify(secret) {
      const digest = sha256(secret);
      let found: string | undefined;
      // Every token is compared, so the time does not tell which matched.
      for (const token of tokens) {
        if (timingSafeEqual(token.digest, digest)) found = token.namespace;
      }
      return found;
    },
  };
}

function sha256(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}
