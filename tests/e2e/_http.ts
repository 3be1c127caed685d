/**
 * Helpers shared by the HTTP API e2e tests: a client for one daemon's HTTP
 * port (optionally with a Bearer token), and assertions on status, the
 * headers that matter and the exact body bytes (spec: http-api.md §1, §5).
 */
import assert from "node:assert/strict";
import {
  type RawResponse,
  request,
  type RequestOptions,
  utf8,
} from "../_helpers/http_client.ts";
import { startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { writeFile } from "../_helpers/fs.ts";
import { AUTH_TOML } from "./_security.ts";

/** A date far enough ahead that jobs stay `planned` while a test runs. */
export const FAR = "2099-04-10T12:00:00Z";
/** {@link FAR} in nanoseconds. */
export const FAR_NS = "4079505600000000000";
/** A PUT /jobs body for {@link FAR}. */
export const FAR_BODY = `{"execution":"${FAR}"}`;

/** The security fields of every answer (observability.md §3). */
export const CSP = "default-src 'self'";

/** Requests to one HTTP port, each on its own connection. */
export class Api {
  constructor(readonly port: number, readonly token?: string) {}

  /** The same port with a Bearer token. */
  as(token: string | undefined): Api {
    return new Api(this.port, token);
  }

  /** Any method and raw target; `target` is sent byte for byte. */
  send(
    method: string,
    target: string,
    options: RequestOptions = {},
  ): Promise<RawResponse> {
    const headers = this.token === undefined
      ? options.headers
      : { authorization: `Bearer ${this.token}`, ...options.headers };
    return request(this.port, method, target, {
      ...options,
      ...(headers ? { headers } : {}),
    });
  }

  get(target: string): Promise<RawResponse> {
    return this.send("GET", target);
  }

  put(target: string, body: string): Promise<RawResponse> {
    return this.send("PUT", target, { body });
  }

  delete(target: string): Promise<RawResponse> {
    return this.send("DELETE", target);
  }

  /** PUT /jobs/{id} for {@link FAR}; asserts the 200. */
  async putJob(path: string, body = FAR_BODY): Promise<RawResponse> {
    const response = await this.put(`/jobs/${path}`, body);
    assert.equal(response.status, 200, `PUT /jobs/${path}: ${response.body}`);
    return response;
  }
}

/** Asserts a JSON answer: status, content type, security fields, body bytes. */
export function assertJson(
  response: RawResponse,
  status: number,
  body: string,
  what = "",
): void {
  assert.equal(response.status, status, `${what} status (${response.body})`);
  assert.equal(response.body, body, `${what} body`);
  assert.deepEqual(response.bytes, utf8(body), `${what} body bytes`);
  assert.equal(
    response.headers.get("content-type"),
    "application/json",
    `${what} content-type`,
  );
  assertSecurityFields(response, what);
}

/** Asserts `{"error":"<message>"}` with its status. */
export function assertError(
  response: RawResponse,
  status: number,
  message: string,
  what = "",
): void {
  assertJson(response, status, `{"error":"${message}"}`, what);
}

/** Asserts 204 with no body and no content type. */
export function assertNoContent(response: RawResponse, what = ""): void {
  assert.equal(response.status, 204, `${what} status (${response.body})`);
  assert.equal(response.bytes.length, 0, `${what} body`);
  assert.equal(response.headers.get("content-type"), undefined, what);
  assert.equal(response.headers.get("content-length"), undefined, what);
  assertSecurityFields(response, what);
}

/** Asserts the CSP and nosniff fields. */
export function assertSecurityFields(response: RawResponse, what = ""): void {
  assert.equal(response.headers.get("content-security-policy"), CSP, what);
  assert.equal(
    response.headers.get("x-content-type-options"),
    "nosniff",
    what,
  );
}

/** A job object as the API renders it. */
export function jobJson(
  id: string,
  execution = FAR_NS,
  status = "planned",
): string {
  return `{"id":${
    JSON.stringify(id)
  },"status":"${status}","execution":${execution}}`;
}

/** A rule summary as the API renders it. */
export function ruleJson(id: string, pattern: string, runner: string): string {
  return `{"id":${JSON.stringify(id)},"pattern":${
    JSON.stringify(pattern)
  },"runner":"${runner}"}`;
}

/** A daemon with the spec's auth file, and its API with no token. */
export async function authHttpDaemon(): Promise<
  { daemon: TestDaemon; api: Api; authFile: string } & AsyncDisposable
> {
  const dir = await Deno.makeTempDir({ prefix: "ztick-http-auth-" });
  const authFile = await writeFile(`${dir}/auth.toml`, AUTH_TOML);
  const daemon = await startTestDaemon({
    http: true,
    persistence: "memory",
    authFile,
  });
  return {
    daemon,
    api: new Api(daemon.httpPort),
    authFile,
    async [Symbol.asyncDispose]() {
      await daemon[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
