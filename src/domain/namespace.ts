/** The namespace of an unrestricted token (spec: protocol.md §8). */
export const ANY_NAMESPACE = "*";

/**
 * Tells whether an identifier lies inside a namespace: `*` holds everything,
 * otherwise the identifier must start with the namespace.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isInside } from "./namespace.ts";
 *
 * assert.ok(isInside("deploy.", "deploy.release"));
 * assert.ok(!isInside("deploy.", "deployX.release"));
 * assert.ok(isInside("*", "anything"));
 * ```
 */
export function isInside(namespace: string, identifier: string): boolean {
  return namespace === ANY_NAMESPACE || identifier.startsWith(namespace);
}
