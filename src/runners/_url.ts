/** URL pieces the amqp and redis runners parse alike (spec: runners.md §7–§8). */

/**
 * Splits `host[:port]` (IPv6 hosts in brackets); throws `SyntaxError`
 * without echoing the text, which sits next to secrets in a URL.
 */
export function parseHostPort(
  hostPort: string,
  defaultPort: number,
): { host: string; port: number } {
  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0) fail("IPv6 host lacks its closing bracket");
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) {
      fail("unexpected text after the IPv6 host");
    }
    if (after !== "") portText = after.slice(1);
  } else {
    const colon = hostPort.indexOf(":");
    host = colon < 0 ? hostPort : hostPort.slice(0, colon);
    if (colon >= 0) portText = hostPort.slice(colon + 1);
  }
  if (host === "") fail("host is empty");
  const port = portText === undefined
    ? defaultPort
    : parseDecimal(portText, 65535, "port");
  return { host, port };
}

/** Reads a decimal from 0 to `max`; throws `SyntaxError` without echoing it. */
export function parseDecimal(text: string, max: number, what: string): number {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || value > max) {
    fail(`${what} is not a decimal from 0 to ${max}`);
  }
  return value;
}

/** Percent-decodes a URL part; throws `SyntaxError` when malformed. */
export function percentDecode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    if (!(error instanceof URIError)) throw error;
    return fail(`${what} has a malformed percent-encoding`);
  }
}

/** Throws the `SyntaxError` of a malformed URL. */
export function fail(detail: string): never {
  throw new SyntaxError(detail);
}
