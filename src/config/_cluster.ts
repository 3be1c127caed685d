/**
 * The `[cluster]` section and `[database] postgres_url` (spec: cluster.md
 * §1): read in every mode, checked as the spec says, used in postgres mode.
 *
 * @module
 */
import { parseDuration } from "../domain/duration.ts";
import { ConfigError } from "./config_error.ts";
import type { Value } from "./_value.ts";

/** The shortest and longest lease (cluster.md §1). */
export const LEASE_RANGE_MS = { min: 1000, max: 60_000 } as const;

/** What the `[cluster]` readers write to. */
interface ClusterDraft {
  readonly config: {
    cluster: { nodeId?: string; leaseMs: number };
  };
}

/** The readers of `[cluster]`'s keys. */
export const CLUSTER_SECTION: Record<
  string,
  (draft: ClusterDraft, value: Value) => void
> = {
  "node_id"({ config }, value) {
    const id = value.string();
    if (id === "") value.fail("must not be empty");
    config.cluster.nodeId = id;
  },
  lease({ config }, value) {
    const text = value.string();
    let ms = Number.NaN;
    try {
      ms = parseDuration(text);
    } catch { /* invalid: failed below */ }
    if (!(ms >= LEASE_RANGE_MS.min && ms <= LEASE_RANGE_MS.max)) {
      value.fail("must be a duration between 1s and 60s");
    }
    config.cluster.leaseMs = ms;
  },
};

/**
 * Checks `postgres_url` once `persistence = "postgres"` is known.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPostgresUrl } from "./_cluster.ts";
 *
 * checkPostgresUrl({ postgresUrl: "postgresql://db/ztick" });
 * assert.throws(() => checkPostgresUrl({ postgresUrl: "mysql://db/ztick" }));
 * assert.throws(() => checkPostgresUrl({}));
 * ```
 */
export function checkPostgresUrl(database: { postgresUrl?: string }): void {
  const url = database.postgresUrl;
  if (url === undefined || url === "") {
    throw new ConfigError(
      'config: [database] postgres_url is required when persistence = "postgres"',
    );
  }
  if (!/^postgres(ql)?:\/\//i.test(url) || !URL.canParse(url)) {
    throw new ConfigError(
      "config: [database] postgres_url must be a postgres:// URL",
    );
  }
}
