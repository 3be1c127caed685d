/**
 * How each page of docs/ is run by docs_test.ts: which daemons its examples
 * talk to (by the port the page shows), with what configuration, which
 * clock, and what files exist before its first block.
 */
import type { Daemon } from "../../src/daemon.ts";
import type { TestDaemonOptions } from "../_helpers/daemon.ts";

/** One daemon a page talks to. */
export interface PageDaemon {
  /** The protocol port the page shows (5678 unless it shows several). */
  readonly port: number;
  /** The HTTP port the page shows, when this daemon serves HTTP. */
  readonly httpPort?: number;
  /** Its settings; `root` is the page's temporary directory. */
  options(root: string): TestDaemonOptions | Promise<TestDaemonOptions>;
}

/** How a page runs. */
export interface PageSetup {
  /**
   * `manual`: the daemons' clock stands at 2026-01-01, so that the jobs of
   * the examples stay planned; `real`: jobs run when due.
   */
  readonly clock: "manual" | "real";
  readonly daemons?: readonly PageDaemon[];
  /** Files the page's examples expect, written into its working directory. */
  prepare?(dir: string, daemons: readonly Daemon[]): Promise<void>;
  /** Fewer runnable examples than this fails (a fence lost its language). */
  readonly minExamples: number;
}

const memory = (): TestDaemonOptions => ({ persistence: "memory" });

/** Every page of docs/, by file name. */
export const PAGES: Record<string, PageSetup> = {
  "README.md": { clock: "manual", minExamples: 0 },
  "protocol.md": {
    clock: "manual",
    daemons: [{ port: 5678, options: memory }],
    minExamples: 10,
  },
};
