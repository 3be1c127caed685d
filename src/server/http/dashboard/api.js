// The one place that talks to the daemon (http-api.md). Every call sends the
// Bearer token kept in sessionStorage (for this tab only; never a cookie or
// the URL) and parses JSON without losing integers beyond 2^53.

const TOKEN_KEY = "ztick.token";

/** The API answered with an error status (`message` is its `error` text); status 0 = unreachable, null = not sent. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** 401: no token, or `refused` when the token that was sent is unknown. */
export class AuthRequired extends Error {
  constructor(refused) {
    super(refused ? "The token was refused" : "A token is required");
    this.name = "AuthRequired";
    this.refused = refused;
  }
}

/** 503 {"error":"not leader"}: this node is a follower (cluster.md). */
export class NotLeader extends Error {
  constructor() {
    super("not leader");
    this.name = "NotLeader";
  }
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// Timestamps are always bigints, whatever their size; any other integer
// literal that a double cannot hold exactly (STAT values) becomes a bigint too.
const NS_KEYS = new Set([
  "execution",
  "started",
  "ended",
  "start",
  "uptime_ns",
]);
const INTEGER = /^-?\d+$/;

/**
 * JSON.parse with exact integers, using the reviver's source text
 * (JSON.parse source text access, Chromium 114+; tested with 156). Without it
 * integers come through a double (display off by up to ~256 ns at 1.7e18).
 */
export function parseExact(text) {
  return JSON.parse(text, (key, value, context) => {
    if (typeof value !== "number") return value;
    const source = context?.source;
    if (source === undefined || !INTEGER.test(source)) {
      return NS_KEYS.has(key) && Number.isInteger(value)
        ? BigInt(value)
        : value;
    }
    return NS_KEYS.has(key) || !Number.isSafeInteger(value)
      ? BigInt(source)
      : value;
  });
}

/** Percent-encodes a query (spaces as %20, never "+", so no server guesses). */
export function query(path, params) {
  const parts = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  }
  return parts.length ? `${path}?${parts.join("&")}` : path;
}

/**
 * The relative path of one job or rule; `/`, `?`, `#` and `%` in ids are
 * encoded. The ids "." and ".." cannot be addressed: every URL parser
 * (fetch's included) treats them, even as %2E, as dot segments.
 */
export function itemPath(kind, id) {
  if (id === "." || id === "..") {
    throw new ApiError(
      null,
      `cannot address the id "${id}" over HTTP; use the TCP protocol`,
    );
  }
  return `${kind}/${encodeURIComponent(id)}`;
}

/**
 * Calls the API (paths are relative to the page, so a reverse proxy may
 * mount the dashboard under a prefix) and returns the parsed body and the
 * raw text (views compare it to skip re-rendering unchanged data).
 */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (error) {
    if (token && error instanceof TypeError && /header/i.test(error.message)) {
      throw new AuthRequired(true); // a token with characters no header can carry
    }
    throw new ApiError(0, "cannot reach the daemon");
  }
  const text = await response.text();
  if (response.status === 401) throw new AuthRequired(Boolean(token));
  let data = null;
  try {
    data = text ? parseExact(text) : null;
  } catch {
    if (response.ok) {
      throw new ApiError(response.status, "the answer is not JSON");
    }
  }
  if (response.status === 503 && data?.error === "not leader") {
    throw new NotLeader();
  }
  if (!response.ok) {
    throw new ApiError(
      response.status,
      typeof data?.error === "string" ? data.error : `HTTP ${response.status}`,
    );
  }
  return { data, text };
}

let featuresRead;

/**
 * What this daemon serves, read once per page load from its OpenAPI
 * document (public, and it describes exactly what is served): the run
 * history (`GET /executions`), recurring jobs (`cron` in PUT /jobs) and
 * rule options. The views then neither ask for what is not there nor offer
 * what would be ignored. An unreadable document means "assume everything".
 */
export function features() {
  featuresRead ??= fetch("openapi.json", { cache: "no-store" })
    .then((response) => (response.ok ? response.json() : null))
    .catch(() => null)
    .then(featuresOf);
  return featuresRead;
}

/** The features an OpenAPI document describes (all of them without one). */
export function featuresOf(doc) {
  if (typeof doc?.paths !== "object" || doc.paths === null) {
    return { executions: true, cron: true, ruleOptions: true };
  }
  return {
    executions: Object.hasOwn(doc.paths, "/executions"),
    cron: putProperties(doc, "/jobs/{id}").has("cron"),
    ruleOptions: putProperties(doc, "/rules/{id}").has("options"),
  };
}

/** Property names of a PUT body's schema, through $ref, allOf, oneOf, anyOf. */
function putProperties(doc, path) {
  const names = new Set();
  const seen = new Set();
  const visit = (schema) => {
    if (typeof schema !== "object" || schema === null || seen.has(schema)) {
      return;
    }
    seen.add(schema);
    if (typeof schema.$ref === "string" && schema.$ref.startsWith("#/")) {
      const target = schema.$ref.slice(2).split("/").reduce(
        (node, key) => node?.[key.replaceAll("~1", "/").replaceAll("~0", "~")],
        doc,
      );
      visit(target);
    }
    for (const name of Object.keys(schema.properties ?? {})) names.add(name);
    for (const part of ["allOf", "oneOf", "anyOf"]) {
      for (const sub of schema[part] ?? []) visit(sub);
    }
  };
  const body = doc.paths[path]?.put?.requestBody;
  visit(body?.content?.["application/json"]?.schema);
  return names;
}
