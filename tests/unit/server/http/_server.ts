/**
 * Shared pieces of the HTTP server tests: an echo handler, a server on
 * port 0, one-shot exchanges.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  HttpServer,
  type HttpServerOptions,
} from "../../../../src/server/http/http_server.ts";
import type {
  HttpHandler,
  HttpRequest,
} from "../../../../src/server/http/_http_types.ts";
import type { HttpResponse } from "../../../../src/server/http/_http_write.ts";
import {
  get,
  RawClient,
  type RawResponse,
} from "../../../_helpers/http_client.ts";

export const BAD_REQUEST = '{"error":"bad request"}';

/** Echoes what the handler saw, as JSON. */
export function echo(request: HttpRequest): HttpResponse {
  return {
    status: 200,
    headers: [["content-type", "application/json"]],
    body: JSON.stringify({
      method: request.method,
      path: request.path,
      query: request.query,
      body: request.body === undefined
        ? null
        : new TextDecoder().decode(request.body),
      chunked: request.chunked,
      contentLength: request.headers.get("content-length") ?? null,
    }),
  };
}

/** A server on 127.0.0.1, port 0. */
export function serve(
  handler: HttpHandler = echo,
  options: Partial<HttpServerOptions> = {},
): HttpServer {
  return HttpServer.listen(
    { hostname: "127.0.0.1", port: 0, ...options },
    handler,
  );
}

/** Sends `request` on a fresh connection and reads one response and the rest. */
export async function exchange(
  port: number,
  request: string,
): Promise<RawResponse & { rest: { text: string; ended: boolean } }> {
  using client = await RawClient.connect(port);
  await client.send(request);
  const response = await client.response();
  // a kept-alive connection stays open: only a closing one is read to its end
  const rest = response.headers.get("connection") === "close"
    ? await client.rest(3000)
    : { text: "", ended: false };
  return { ...response, rest };
}

/** Asserts that a plain GET is answered 200 within a few seconds. */
export async function assertServes(port: number): Promise<void> {
  const started = performance.now();
  const response = await exchange(port, get("/ok", "Connection: close\r\n"));
  assert.equal(response.status, 200);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 3000, `served after ${elapsed.toFixed(0)} ms`);
}
