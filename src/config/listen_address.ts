/** A `host:port` listen address (spec: configuration.md §2 `[controller]`). */
export interface ListenAddress {
  /** Host name or IP address; an IPv6 address without its brackets. */
  readonly hostname: string;
  /** 0–65535; 0 asks for any free port. */
  readonly port: number;
  /** The address as written in the configuration. */
  readonly text: string;
}

/**
 * Parses a `host:port` listen address: an IPv4 address, a bracketed IPv6
 * address or a host name, then a decimal port 0–65535. Returns `undefined`
 * when malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseListenAddress } from "./listen_address.ts";
 *
 * assert.deepEqual(parseListenAddress("[::1]:5678"), {
 *   hostname: "::1",
 *   port: 5678,
 *   text: "[::1]:5678",
 * });
 * assert.equal(parseListenAddress("::1:5678"), undefined);
 * assert.equal(parseListenAddress("localhost:70000"), undefined);
 * ```
 */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const colon = text.lastIndexOf(":");
  if (colon < 0) return undefined;
  const host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  let hostname: string;
  if (host.startsWith("[") && host.endsWith("]")) {
    hostname = host.slice(1, -1);
    if (!isIpv6(hostname)) return undefined;
  } else if (/^[0-9.]+$/.test(host)) {
    if (!isIpv4(host)) return undefined;
    hostname = host;
  } else if (isHostName(host)) {
    hostname = host;
  } else {
    return undefined;
  }
  return { hostname, port, text };
}

function isIpv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 &&
    parts.every((part) =>
      /^(0|[1-9][0-9]{0,2})$/.test(part) && Number(part) <= 255
    );
}

function isIpv6(text: string): boolean {
  return /^[0-9a-fA-F:.]+$/.test(text) && text.includes(":") &&
    URL.canParse(`http://[${text}]/`);
}

/** RFC 1123 host name: dot-separated labels of letters, digits and hyphens. */
function isHostName(text: string): boolean {
  if (text.length === 0 || text.length > 253) return false;
  return text.split(".").every((label) =>
    /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)
  );
}
