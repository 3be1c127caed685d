/**
 * Drives Debian's chromium headless through playwright-core for page tests:
 * launch, open a URL, collect console errors, page errors, CSP violations
 * and native dialogs, take screenshots. It knows nothing about the page or
 * the server behind it.
 *
 * Chromium comes from `apt-get install -y chromium` (`.ci/run` installs it);
 * playwright's own browser downloads cannot work on these machines. The
 * import is a full `npm:` specifier so that the daemon's `deno install`
 * (deno.json's imports) stays free of test dependencies.
 *
 * playwright-core needs `-A`: on import its bundled `is-wsl` reads
 * `/proc/sys/fs/binfmt_misc/WSLInterop`, which Deno grants only with all
 * permissions (`deno task test` runs with `-A`).
 *
 * @module
 */
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
} from "npm:playwright-core@1.65.1";
import { type BrokerGate, brokerGate } from "./brokers.ts";

/** Where Debian installs chromium; override with ZTICK_CHROMIUM. */
export const CHROMIUM_PATH = Deno.env.get("ZTICK_CHROMIUM") ??
  "/usr/bin/chromium";

/**
 * Flags for chromium as root on a machine without network: without the
 * background-networking ones it keeps failing connections to the outside.
 * playwright adds a fresh `--user-data-dir` (a new temporary profile per
 * launch) and removes it on close.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** True when chromium is installed. */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    return false;
  }
}

/**
 * How browser tests are registered: skipped with a visible reason when
 * chromium is missing, except with `CI=true`, where a missing chromium is a
 * failure (like the brokers' gates).
 */
export function chromiumGate(): BrokerGate {
  return brokerGate(
    `chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`,
    hasChromium(),
  );
}

/** One console error, uncaught exception or failed load, with its URL. */
export interface PageError {
  readonly text: string;
  /** The script or resource it is about, when chromium says. */
  readonly url: string;
}

/** What a page did that a test may want to refuse. */
export interface PageEvents {
  /** console.error messages, uncaught exceptions and failed loads, in order. */
  readonly errors: PageError[];
  /** CSP violations: from `securitypolicyviolation` events and console reports. */
  readonly cspViolations: string[];
  /** Native dialogs (alert, confirm, prompt, beforeunload); each is dismissed. */
  readonly dialogs: string[];
  /** Every response the page received: URL, status, headers (lower-case names). */
  readonly responses: {
    url: string;
    status: number;
    headers: Record<string, string>;
  }[];
}

/** A page opened by {@link BrowserSession.open}, with what it did so far. */
export interface WatchedPage extends PageEvents {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Status and headers (lower-case names) of the document's own response. */
  readonly document: { status: number; headers: Record<string, string> };
  /** Saves a PNG (full page unless `fullPage: false`) as `<dir>/<name>.png`; returns its path. */
  screenshot(name: string, options?: { fullPage?: boolean }): Promise<string>;
}

/** How a page is opened. */
export interface OpenOptions {
  viewport?: { width: number; height: number };
  /** IANA zone the page sees as local time (default: the machine's). */
  timezoneId?: string;
  locale?: string;
  /** Values to put in sessionStorage before the page's scripts run. */
  sessionStorage?: Record<string, string>;
}

/** A running chromium; `await using` closes it. */
export interface BrowserSession extends AsyncDisposable {
  readonly browser: Browser;
  /** Opens `url` in a new context (own storage) and waits for its load event. */
  open(url: string, options?: OpenOptions): Promise<WatchedPage>;
  close(): Promise<void>;
}

const CSP_CONSOLE = /Content Security Policy/i;
let shotDir: Promise<string> | undefined;

/**
 * The folder screenshots go to, kept after the run for a person to look at:
 * ZTICK_SCREENSHOT_DIR when set, else `ztick-screenshots-<pid>` in the
 * temporary folder (one per `deno test` run: its test modules share the
 * process). Its path is printed when a module first uses it.
 */
export function screenshotDir(): Promise<string> {
  shotDir ??= (async () => {
    const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
    const dir = Deno.env.get("ZTICK_SCREENSHOT_DIR") ??
      `${tmp}/ztick-screenshots-${Deno.pid}`;
    await Deno.mkdir(dir, { recursive: true });
    // deno-lint-ignore no-console
    console.log(`screenshots in ${dir}`);
    return dir;
  })();
  return shotDir;
}

/** Launches chromium headless with {@link CHROMIUM_FLAGS}. */
export async function launchBrowser(): Promise<BrowserSession> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_FLAGS],
    headless: true,
    timeout: 30_000,
  });
  const close = () => browser.close();
  return {
    browser,
    open: (url, options) => openPage(browser, url, options),
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function openPage(
  browser: Browser,
  url: string,
  options: OpenOptions = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    bypassCSP: false,
    serviceWorkers: "block",
    ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
    ...(options.locale ? { locale: options.locale } : {}),
  });
  const events: PageEvents = {
    errors: [],
    cspViolations: [],
    dialogs: [],
    responses: [],
  };
  await reportViolations(context, events, options.sessionStorage ?? {});
  const page = await context.newPage();
  watch(page, events);
  const response = await page.goto(url, { waitUntil: "load" });
  return {
    ...events,
    page,
    context,
    document: {
      status: response?.status() ?? 0,
      headers: response?.headers() ?? {},
    },
    async screenshot(name: string, { fullPage = true } = {}) {
      const path = `${await screenshotDir()}/${name}.png`;
      await page.screenshot({ path, fullPage, animations: "disabled" });
      return path;
    },
  };
}

/** What the init script uses of the page (Deno's types have no DOM). */
interface ViolationReporting {
  readonly document: {
    addEventListener(
      type: "securitypolicyviolation",
      listener: (event: {
        effectiveDirective: string;
        blockedURI: string;
        sample?: string;
      }) => void,
    ): void;
  };
  __reportCspViolation(text: string): void;
}

/**
 * Reports `securitypolicyviolation` events through a binding. Bindings and
 * init scripts go through the DevTools protocol, so the page's own CSP does
 * not block them.
 */
async function reportViolations(
  context: BrowserContext,
  events: PageEvents,
  storage: Record<string, string>,
): Promise<void> {
  await context.exposeBinding(
    "__reportCspViolation",
    (_source, text: string) => {
      events.cspViolations.push(text);
    },
  );
  await context.addInitScript((storage: Record<string, string>) => {
    for (const [key, value] of Object.entries(storage)) {
      sessionStorage.setItem(key, value);
    }
    const page = globalThis as unknown as ViolationReporting;
    page.document.addEventListener("securitypolicyviolation", (e) => {
      page.__reportCspViolation(
        `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} ${
          e.sample ?? ""
        }`.trim(),
      );
    });
  }, storage);
}

function watch(page: Page, events: PageEvents): void {
  page.on("response", (r) => {
    events.responses.push({
      url: r.url(),
      status: r.status(),
      headers: r.headers(),
    });
  });
  page.on("console", (message) => {
    const text = message.text();
    if (CSP_CONSOLE.test(text)) events.cspViolations.push(text);
    else if (message.type() === "error") {
      events.errors.push({ text, url: message.location().url });
    }
  });
  page.on("pageerror", (error) => {
    events.errors.push({ text: `uncaught: ${error.message}`, url: "" });
  });
  page.on("dialog", async (dialog) => {
    events.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss().catch(() => {});
  });
}
