/**
 * Harness of the dashboard's browser tests: a real daemon in this process
 * with the HTTP API on a free loopback port, seeded and checked over TCP,
 * and the page opened in headless chromium (tests/_helpers/browser.ts).
 */
import assert from "node:assert/strict";
import {
  chromiumGate,
  launchBrowser,
  type PageError,
  type WatchedPage,
} from "../_helpers/browser.ts";
import { gatedTest } from "../_helpers/brokers.ts";
import { converse } from "../_helpers/client.ts";
import { startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { writeFile } from "../_helpers/fs.ts";
import { AUTH_TOML } from "./_security.ts";

/**
 * The little of the page's DOM that the tests' page functions use, for
 * `(globalThis as unknown as PageGlobals)` inside them: the tests are
 * type-checked with Deno's libraries, which have no DOM (adding the DOM
 * library to one test module would change the globals of all of them).
 */
export interface PageGlobals {
  readonly document: {
    querySelector(selector: string): { textContent: string | null } | null;
    readonly documentElement: { readonly scrollWidth: number };
    readonly cookie: string;
    readonly body: { setAttribute(name: string, value: string): void };
  };
  readonly innerWidth: number;
}

/** The page's local zone in the tests, so that local time and UTC differ. */
export const TZ = "Europe/Paris";
/** The job and rule id no page may turn into markup. */
export const XSS = "<img src=x onerror=alert(1)>";

const gate = chromiumGate();

/**
 * Registers a browser test: skipped with the reason when chromium is
 * missing, failing instead under CI=true. Each test launches and closes its
 * own chromium and daemon, so Deno's sanitizers stay on.
 */
export function browserTest(name: string, fn: () => Promise<void>): void {
  gatedTest(gate, name, fn);
}

/** A daemon with the HTTP API and the TCP helpers the tests seed it with. */
export interface DashboardDaemon extends AsyncDisposable {
  readonly test: TestDaemon;
  /** The page: `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** Sends protocol lines on one connection (after AUTH when given); all answers. */
  tcp(lines: readonly string[], secret?: string): Promise<string>;
}

/** Starts a daemon with `[http] listen = "127.0.0.1:0"` (and the test auth file). */
export async function startDashboardDaemon(
  options: { auth?: boolean } = {},
): Promise<DashboardDaemon> {
  const dir = await Deno.makeTempDir({ prefix: "ztick-dashboard-" });
  const authFile = options.auth
    ? await writeFile(`${dir}/auth.toml`, AUTH_TOML)
    : undefined;
  const test = await startTestDaemon({
    http: true,
    persistence: "memory",
    ...(authFile ? { authFile } : {}),
  });
  const addr = test.daemon.httpAddr;
  assert.ok(addr, "the daemon listens for HTTP");
  return {
    test,
    url: `http://127.0.0.1:${addr.port}/`,
    tcp: (lines, secret) =>
      converse(
        test.port,
        [...(secret ? [`AUTH ${secret}`] : []), ...lines, ""].join("\n"),
      ),
    async [Symbol.asyncDispose]() {
      await test[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** What a test gets: the daemon and the page. */
export interface Dashboard {
  readonly daemon: DashboardDaemon;
  readonly watched: WatchedPage;
}

/** How {@link withDashboard} opens the page. */
export interface DashboardOptions {
  /** Appended to the page's URL, e.g. `#/jobs`. */
  readonly hash?: string;
  readonly viewport?: { width: number; height: number };
  /** Runs before the page opens (so the first render already shows it). */
  readonly seed?: (daemon: DashboardDaemon) => Promise<void>;
  /** Console errors the test expects (e.g. a failed load of a 400 answer). */
  readonly allowErrors?: (error: PageError) => boolean;
}

/**
 * Starts a daemon, seeds it, opens the page in chromium (Europe/Paris,
 * en-GB), runs `fn`, then checks the page saw no CSP violation, no native
 * dialog and no console error.
 */
export async function withDashboard(
  options: DashboardOptions,
  fn: (dashboard: Dashboard) => Promise<void>,
): Promise<void> {
  await using daemon = await startDashboardDaemon();
  await options.seed?.(daemon);
  await using session = await launchBrowser();
  const watched = await session.open(daemon.url + (options.hash ?? ""), {
    timezoneId: TZ,
    locale: "en-GB",
    ...(options.viewport ? { viewport: options.viewport } : {}),
  });
  await fn({ daemon, watched });
  assertQuiet(watched, options.allowErrors);
}

/** No CSP violation, no native dialog, no console error but the allowed ones. */
export function assertQuiet(
  watched: WatchedPage,
  allowErrors: (error: PageError) => boolean = () => false,
): void {
  assert.deepEqual(watched.cspViolations, [], "no CSP violation");
  assert.deepEqual(watched.dialogs, [], "no native dialog");
  assert.deepEqual(
    watched.errors.filter((e) => !allowErrors(e)),
    [],
    "no console error",
  );
}

/** Chromium's console line for a fetch answered with `status`, at `path`. */
export function failedLoad(
  status: number,
  path: RegExp,
): (error: PageError) => boolean {
  return (error) =>
    error.text.includes(`status of ${status}`) &&
    path.test(new URL(error.url).pathname);
}

/** An instant `hours` from now as the protocol's quoted UTC datetime. */
export function inHours(hours: number): string {
  const iso = new Date(Date.now() + hours * 3_600_000).toISOString();
  return `"${iso.slice(0, 10)} ${iso.slice(11, 19)}"`;
}

/** Quotes a protocol token (ids in these tests hold no `"`). */
export function quote(token: string): string {
  return `"${token}"`;
}

/** The job lines of `QUERY <prefix>` over TCP, as `id status ns`. */
export async function queryJobs(
  daemon: DashboardDaemon,
  prefix = "",
  secret?: string,
): Promise<string[]> {
  const text = await daemon.tcp([`q QUERY ${quote(prefix)}`], secret);
  return text.split("\n").filter((l) => l.startsWith("q ") && l !== "q OK")
    .map((l) => l.slice(2)).sort();
}

/** The rule lines of LISTRULES over TCP, sorted. */
export async function listRules(daemon: DashboardDaemon): Promise<string[]> {
  const text = await daemon.tcp(["l LISTRULES"]);
  return text.split("\n").filter((l) => l.startsWith("l ") && l !== "l OK")
    .map((l) => l.slice(2)).sort();
}

/** Sends lines over TCP and checks every one was answered `<id> OK`. */
export async function tcpOk(
  daemon: DashboardDaemon,
  lines: readonly string[],
  secret?: string,
): Promise<void> {
  const answer = await daemon.tcp(lines, secret);
  const oks = answer.split("\n").filter((l) => /(^| )OK$/.test(l));
  assert.equal(oks.length, lines.length + (secret ? 1 : 0), answer);
}

/** Takes a screenshot and checks the PNG was written. */
export async function screenshot(
  watched: WatchedPage,
  name: string,
  options?: { fullPage?: boolean },
): Promise<string> {
  const path = await watched.screenshot(name, options);
  const { size } = await Deno.stat(path);
  assert.ok(size > 1000, `${path}: ${size} bytes`);
  return path;
}

/** The STAT lines over TCP as [key, value] pairs, in STAT order. */
export async function stat(
  daemon: DashboardDaemon,
): Promise<[string, string][]> {
  const text = await daemon.tcp(["s STAT"]);
  return text.split("\n").filter((l) => l.startsWith("s ") && l !== "s OK")
    .map((l) => {
      const [, key, ...value] = l.split(" ");
      return [key!, value.join(" ")];
    });
}

/** Waits until STAT shows `count` finished executions (executed + failed). */
export async function waitForRuns(
  daemon: DashboardDaemon,
  count: number,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const figures = new Map(await stat(daemon));
    const done = Number(figures.get("jobs_executed")) +
      Number(figures.get("jobs_failed"));
    if (done >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${done} runs finished`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Nanoseconds `ms` from now, as the protocol's integer timestamp. */
export function nsFromNow(ms: number): string {
  return String(BigInt(Date.now() + ms) * 1_000_000n);
}
