/** Configs and probes shared by limits_test.ts and limits_idle_test.ts. */
import assert from "node:assert/strict";
import { TestClient } from "../_helpers/client.ts";
import { writeFile } from "../_helpers/fs.ts";

export const MAIN = new URL("../../main.ts", import.meta.url).pathname;
export const FAR_FUTURE_NS = "4000000000000000000";

export const MEMORY_CONFIG = `[log]
level = "info"

[controller]
listen = "127.0.0.1:0"

[database]
persistence = "memory"
`;

/** Writes a config file in a fresh temp dir; `await using` removes the dir. */
export async function tempConfig(
  text: string,
): Promise<{ path: string; dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "ztick-limits-" });
  const path = await writeFile(`${dir}/ztick.toml`, text);
  return {
    path,
    dir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * Reads a /proc file of another process through `cat`: Deno lets only
 * `--allow-all` read /proc, and `deno task test` grants less.
 */
export async function readProc(pid: number, file: string): Promise<string> {
  const { success, stdout } = await new Deno.Command("cat", {
    args: [`/proc/${pid}/${file}`],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(success, `cannot read /proc/${pid}/${file}`);
  return new TextDecoder().decode(stdout);
}

/** Resident set size of a process in KiB (or its peak, VmHWM). */
export async function rssKib(
  pid: number,
  field: "VmRSS" | "VmHWM" = "VmRSS",
): Promise<number> {
  const status = await readProc(pid, "status");
  const match = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  assert.ok(match, `no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/** Sends STAT on a new connection; returns the answer and how long it took. */
export async function statOnNewConnection(
  port: number,
): Promise<{ answer: string; ms: number }> {
  const started = performance.now();
  using client = await TestClient.connect(port);
  const answer = await client.request("s STAT");
  return { answer, ms: performance.now() - started };
}
