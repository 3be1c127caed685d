/**
 * The client commands end to end: resolve the address, secret and zone,
 * send one request, print its answer, return the exit code (spec:
 * client.md). Never calls the daemon's signal guard: it runs for a moment
 * and opens no inspector worth guarding.
 *
 * @module
 */
import { parseListenAddress } from "../config/listen_address.ts";
import { errorMessage, fsReason } from "../errors.ts";
import { type ClientInvocation, clientUsage } from "./args.ts";
import { ClientError, exchange, type Target } from "./exchange.ts";
import { renderOutput } from "./output.ts";
import { requestLine } from "./request.ts";
import { checkTimeZone } from "./when.ts";

/** The variables the client reads (and the only ones it needs to). */
export const CLIENT_ENV = [
  "ZTICK_ADDR",
  "ZTICK_TOKEN",
  "ZTICK_TOKEN_FILE",
  "TZ",
] as const;
const DEFAULT_ADDR = "127.0.0.1:5678";
const REQUEST_ID = "c1";

/** What the client reads and writes besides the network. */
export interface ClientIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /**
   * A variable of {@link CLIENT_ENV}; `"denied"` when the process may not
   * read it (no `--allow-env`), which counts as unset.
   */
  env(name: (typeof CLIENT_ENV)[number]): string | undefined | "denied";
  readTextFile(path: string): Promise<string>;
}

/** Runs one client command and returns its exit code (0, 1, 2 or 3). */
export async function runClient(
  invocation: ClientInvocation,
  io: ClientIo,
): Promise<number> {
  const denied: string[] = [];
  const env = (name: (typeof CLIENT_ENV)[number]) => {
    const value = io.env(name);
    if (value !== "denied") return value || undefined;
    denied.push(name);
    return undefined;
  };
  try {
    const request = prepare(invocation, env);
    const target = await targetOf(invocation, env, io);
    const secret = await secretOf(invocation, env, io);
    const answer = await exchange(target, {
      requestId: REQUEST_ID,
      ...request,
      ...(secret !== undefined ? { secret } : {}),
      timeoutMs: invocation.options.timeoutMs,
    });
    if (answer.kind !== "ok") {
      throw new ClientError(1, `${invocation.command} failed`);
    }
    io.stdout(render(invocation, answer, target));
    return 0;
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    const usage = error.exitCode === 2
      ? `\n${clientUsage(invocation.command)}`
      : "";
    io.stderr(`error: ${error.message}${usage}\n${hint(error, denied)}`);
    return error.exitCode;
  }
}

function prepare(
  invocation: ClientInvocation,
  env: (name: "TZ") => string | undefined,
): ReturnType<typeof requestLine> {
  try {
    return requestLine(invocation, {
      nowNs: BigInt(Date.now()) * 1_000_000n,
      timeZone: () => localZone(env("TZ")),
    });
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new ClientError(2, error.message);
  }
}

/**
 * The client's own zone: `$TZ` when set (a POSIX rule such as `CET-1CEST`
 * is refused rather than read as UTC), else the system's.
 */
function localZone(tz: string | undefined): string {
  if (tz === undefined) return Temporal.Now.timeZoneId();
  const name = tz.startsWith(":") ? tz.slice(1) : tz;
  try {
    return checkTimeZone(name);
  } catch {
    throw new SyntaxError(
      `Cannot use $TZ "${tz}": not a time zone name; use --tz ZONE`,
    );
  }
}

async function targetOf(
  { options }: ClientInvocation,
  env: (name: "ZTICK_ADDR") => string | undefined,
  io: ClientIo,
): Promise<Target> {
  const text = options.addr ?? env("ZTICK_ADDR") ?? DEFAULT_ADDR;
  const address = parseListenAddress(text);
  if (address === undefined || address.port === 0) {
    throw new ClientError(2, `invalid address "${text}" (HOST:PORT)`);
  }
  const { hostname, port } = address;
  if (!options.tls) return { hostname, port, text };
  const caCerts = options.ca === undefined
    ? []
    : [await readFile(io, options.ca, "CA file")];
  return { hostname, port, text, tls: { caCerts } };
}

/** The secret: `--token-file`, else `$ZTICK_TOKEN_FILE`, else `$ZTICK_TOKEN`. */
async function secretOf(
  { options }: ClientInvocation,
  env: (name: "ZTICK_TOKEN" | "ZTICK_TOKEN_FILE") => string | undefined,
  io: ClientIo,
): Promise<string | undefined> {
  const path = options.tokenFile ?? env("ZTICK_TOKEN_FILE");
  if (path === undefined) return env("ZTICK_TOKEN");
  const text = await readFile(io, path, "token file");
  const secret = text.split("\n")[0]!.replace(/\r$/, "");
  if (secret === "") throw new ClientError(2, `token file ${path} is empty`);
  return secret;
}

async function readFile(
  io: ClientIo,
  path: string,
  what: string,
): Promise<string> {
  try {
    return await io.readTextFile(path);
  } catch (error) {
    throw new ClientError(2, `cannot read ${what} ${path}: ${fsReason(error)}`);
  }
}

function render(
  invocation: ClientInvocation,
  answer: { readonly data: readonly string[]; readonly value: string },
  target: Target,
): string {
  try {
    return renderOutput(invocation.command, answer, {
      json: invocation.options.json,
      jobId: invocation.args[0] ?? "",
    });
  } catch (error) {
    throw new ClientError(
      3,
      `unreadable answer from ${target.text}: ${errorMessage(error)}`,
    );
  }
}

/** Says which variables could not be read, when that may be the cause. */
function hint(error: ClientError, denied: readonly string[]): string {
  if (denied.length === 0 || error.exitCode === 1) return "";
  return `hint: ${denied.map((name) => `$${name}`).join(", ")} not readable: ` +
    `grant --allow-env=${CLIENT_ENV.join(",")}\n`;
}
