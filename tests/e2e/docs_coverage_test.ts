/**
 * The manual keeps up with the daemon: every configuration key, STAT key and
 * Prometheus metric the daemon has is named in its page of docs/, so a new
 * one (recurring jobs, the cluster) fails here until it is documented.
 */
import assert from "node:assert/strict";
import { startTestDaemon } from "../_helpers/daemon.ts";

const DOCS = new URL("../../docs/", import.meta.url);
const page = (name: string) => Deno.readTextFileSync(new URL(name, DOCS));
/** The names a page shows as code: `name`. */
function codeWords(text: string): Set<string> {
  return new Set([...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!));
}

Deno.test("docs: configuration.md names every key of the configuration file", () => {
  const source = Deno.readTextFileSync(
    new URL("../../src/config/config.ts", import.meta.url),
  );
  // The readers of SECTIONS: `    <key>({ config }, value) {`
  const keys = [...source.matchAll(/^ {4}(\w+)\(\{ config \}, value\)/gm)]
    .map((m) => m[1]!);
  assert.ok(keys.length >= 24, `only ${keys.length} keys found in config.ts`);
  const shown = codeWords(page("configuration.md"));
  assert.deepEqual(keys.filter((key) => !shown.has(key)), []);
});

Deno.test("docs: protocol.md names every STAT key, observability.md every metric", async () => {
  await using d = await startTestDaemon({ persistence: "memory", http: true });
  const base = `http://127.0.0.1:${d.httpPort}`;
  const stats = await (await fetch(`${base}/stats`)).text();
  const statKeys = Object.keys(JSON.parse(stats).stat);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const metricNames = [...metrics.matchAll(/^# TYPE (\S+) /gm)].map((m) =>
    m[1]!
  );
  assert.ok(statKeys.length >= 20 && metricNames.length >= 20);
  const protocol = page("protocol.md");
  assert.deepEqual(
    statKeys.filter((key) =>
      !protocol.includes(`\`${key}\``) && !protocol.includes(`r1 ${key} `)
    ),
    [],
  );
  const observability = codeWords(page("observability.md"));
  assert.deepEqual(metricNames.filter((name) => !observability.has(name)), []);
});
