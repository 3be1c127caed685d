/** The auth daemon and AUTH conversations shared by auth_test.ts and auth_namespaces_test.ts. */
import { converse } from "../_helpers/client.ts";
import { startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { ManualClock } from "../_helpers/doubles.ts";
import { AUTH_TOML, makeCert } from "./_security.ts";
import { writeFile } from "../_helpers/fs.ts";

// 2026-01-01 00:00:00 UTC: the spec's examples (April 2026) lie ahead.
export const BEFORE_EXAMPLES = 1_767_225_600_000_000_000n;
export const T = "2026-04-01 12:00:00";
export const T_NS = "1775044800000000000";

export interface AuthDaemon extends AsyncDisposable {
  readonly d: TestDaemon;
  readonly port: number;
  readonly dir: string;
}

export async function authDaemon(
  options: { tls?: boolean } = {},
): Promise<AuthDaemon> {
  const dir = await Deno.makeTempDir({ prefix: "ztick-auth-" });
  const authFile = await writeFile(`${dir}/auth.toml`, AUTH_TOML);
  const cert = options.tls ? await makeCert(dir) : undefined;
  const d = await startTestDaemon({
    persistence: "memory",
    authFile,
    clock: new ManualClock(BEFORE_EXAMPLES),
    ...(cert ? { tls: { cert: cert.certPath, key: cert.keyPath } } : {}),
  });
  return {
    d,
    port: d.port,
    dir,
    async [Symbol.asyncDispose]() {
      await d[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** One connection: AUTH with `secret`, then the lines; all answers to EOF. */
export function as(
  port: number,
  secret: string,
  ...lines: string[]
): Promise<string> {
  return converse(
    port,
    [`AUTH ${secret}`, ...lines].map((line) => `${line}\n`).join(""),
  );
}

export function sorted(text: string): string[] {
  return text.split("\n").filter((line) => line !== "").sort();
}
