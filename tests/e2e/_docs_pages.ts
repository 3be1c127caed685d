/**
 * How each page of docs/ is run by docs_test.ts: which daemons its examples
 * talk to (by the port the page shows), with what configuration, which
 * clock, and what files exist before its first block.
 */
import type { Daemon } from "../../src/daemon.ts";
import type { TestDaemonOptions } from "../_helpers/daemon.ts";
import { makeCert } from "../_helpers/tls.ts";

/** One daemon a page talks to. */
export interface PageDaemon {
  /** The protocol port the page shows (5678 unless it shows several). */
  readonly port: number;
  /** The HTTP port the page shows, when this daemon serves HTTP. */
  readonly httpPort?: number;
  /** Its settings; `work` is the page's working directory. */
  options(work: string): TestDaemonOptions | Promise<TestDaemonOptions>;
}

/** How a page runs. */
export interface PageSetup {
  /**
   * `manual`: the daemons' clock stands at 2026-01-01, so that the jobs of
   * the examples stay planned; `real`: jobs run when due.
   */
  readonly clock: "manual" | "real";
  readonly daemons?: readonly PageDaemon[];
  /**
   * Ports the page's own examples listen on (a daemon they start with
   * `ztick -c`): each is mapped to a free port. Such a daemon writes its pid
   * to `ztick.pid`, and is killed after the page if it still runs.
   */
  readonly freePorts?: readonly number[];
  /** Files the page's examples expect, written into its working directory. */
  prepare?(dir: string, daemons: readonly Daemon[]): Promise<void>;
  /** Fewer runnable examples than this fails (a fence lost its language). */
  readonly minExamples: number;
}

const memory = (): TestDaemonOptions => ({ persistence: "memory" });
const memoryWithHttp = (): TestDaemonOptions => ({
  persistence: "memory",
  http: true,
});

/** The auth file that security.md shows. */
export const AUTH_TOML = `[token.deploy]
secret = "sk_deploy_7f3a91"
namespace = "deploy."

[token.admin]
secret = "sk_admin_5c2e08"
namespace = "*"
`;

/**
 * Authentication with {@link AUTH_TOML} in /etc/ztick/auth.toml and, when
 * `tls`, the certificate /etc/ztick/cert.pem and its key.
 */
async function secured(work: string, tls: boolean): Promise<TestDaemonOptions> {
  const etc = `${work}/etc/ztick`;
  await Deno.writeTextFile(`${etc}/auth.toml`, AUTH_TOML, { mode: 0o600 });
  const options = {
    persistence: "memory",
    authFile: `${etc}/auth.toml`,
  } as const;
  if (!tls) return options;
  const cert = await makeCert(etc);
  return { ...options, tls: { cert: cert.certPath, key: cert.keyPath } };
}

/** Every page of docs/, by file name. */
export const PAGES: Record<string, PageSetup> = {
  "README.md": {
    clock: "manual",
    daemons: [{ port: 5678, options: memory }],
    minExamples: 2,
  },
  "protocol.md": {
    clock: "manual",
    daemons: [{ port: 5678, options: memory }],
    minExamples: 18,
  },
  "client.md": {
    clock: "manual",
    daemons: [
      { port: 5678, options: memory },
      { port: 5679, options: (work) => secured(work, true) },
    ],
    minExamples: 17,
  },
  "configuration.md": { clock: "manual", minExamples: 5 },
  "dashboard.md": {
    clock: "manual",
    daemons: [{ port: 5678, httpPort: 5680, options: memoryWithHttp }],
    minExamples: 2,
  },
  "high-availability.md": { clock: "manual", minExamples: 0 },
  "http-api.md": {
    clock: "manual",
    daemons: [{ port: 5678, httpPort: 5680, options: memoryWithHttp }],
    minExamples: 11,
  },
  "observability.md": {
    clock: "manual",
    daemons: [{ port: 5678, httpPort: 5680, options: memoryWithHttp }],
    minExamples: 4,
  },
  "persistence.md": {
    clock: "manual",
    daemons: [{ port: 5678, options: () => ({ fsyncOnPersist: true }) }],
    minExamples: 7,
  },
  "runners.md": {
    clock: "real",
    daemons: [{ port: 5678, httpPort: 5680, options: memoryWithHttp }],
    minExamples: 9,
  },
  "security.md": {
    clock: "manual",
    daemons: [
      {
        port: 5678,
        httpPort: 5680,
        options: async (work) => ({
          ...await secured(work, false),
          http: true,
        }),
      },
      { port: 5679, options: (work) => secured(work, true) },
    ],
    async prepare() {
      const page = await Deno.readTextFile(
        new URL("../../docs/security.md", import.meta.url),
      );
      if (!page.includes("```toml\n" + AUTH_TOML + "```")) {
        throw new Error("security.md no longer shows the auth file tested");
      }
    },
    minExamples: 7,
  },
  "troubleshooting.md": {
    clock: "real",
    freePorts: [5678, 5680],
    minExamples: 10,
  },
};
