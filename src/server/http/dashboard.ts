/**
 * The dashboard's page and assets, embedded in the program (so they are in
 * the bundle and the compiled executable) and served from memory with an
 * ETag (spec: observability.md §3, http-api.md §3). Edit the files in
 * `dashboard/`: no build step.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { HttpRequest } from "./_http_types.ts";
import { SECURITY_HEADERS } from "./_http_types.ts";
import type { HttpResponse } from "./_http_write.ts";
import { failure } from "./_json.ts";
import apiJs from "./dashboard/api.js" with { type: "bytes" };
import appJs from "./dashboard/app.js" with { type: "bytes" };
import chartsJs from "./dashboard/charts.js" with { type: "bytes" };
import domJs from "./dashboard/dom.js" with { type: "bytes" };
import failuresJs from "./dashboard/failures.js" with { type: "bytes" };
import faviconSvg from "./dashboard/favicon.svg" with { type: "bytes" };
import formatJs from "./dashboard/format.js" with { type: "bytes" };
import formsCss from "./dashboard/forms.css" with { type: "bytes" };
import indexHtml from "./dashboard/index.html" with { type: "bytes" };
import jobJs from "./dashboard/job.js" with { type: "bytes" };
import jobsJs from "./dashboard/jobs.js" with { type: "bytes" };
import jobsTableJs from "./dashboard/jobs_table.js" with { type: "bytes" };
import narrowCss from "./dashboard/narrow.css" with { type: "bytes" };
import overviewJs from "./dashboard/overview.js" with { type: "bytes" };
import rulesJs from "./dashboard/rules.js" with { type: "bytes" };
import styleCss from "./dashboard/style.css" with { type: "bytes" };
import vendorUplotCss from "./dashboard/vendor/uplot.css" with {
  type: "bytes",
};
import vendorUplotJs from "./dashboard/vendor/uplot.js" with { type: "bytes" };

/** Path, content, type: every file the page loads. */
const FILES: readonly [string, Uint8Array, string][] = [
  ["/ui/api.js", apiJs, "text/javascript; charset=utf-8"],
  ["/ui/app.js", appJs, "text/javascript; charset=utf-8"],
  ["/ui/charts.js", chartsJs, "text/javascript; charset=utf-8"],
  ["/ui/dom.js", domJs, "text/javascript; charset=utf-8"],
  ["/ui/failures.js", failuresJs, "text/javascript; charset=utf-8"],
  ["/ui/favicon.svg", faviconSvg, "image/svg+xml"],
  ["/ui/format.js", formatJs, "text/javascript; charset=utf-8"],
  ["/ui/forms.css", formsCss, "text/css; charset=utf-8"],
  ["/", indexHtml, "text/html; charset=utf-8"],
  ["/ui/job.js", jobJs, "text/javascript; charset=utf-8"],
  ["/ui/jobs.js", jobsJs, "text/javascript; charset=utf-8"],
  ["/ui/jobs_table.js", jobsTableJs, "text/javascript; charset=utf-8"],
  ["/ui/narrow.css", narrowCss, "text/css; charset=utf-8"],
  ["/ui/overview.js", overviewJs, "text/javascript; charset=utf-8"],
  ["/ui/rules.js", rulesJs, "text/javascript; charset=utf-8"],
  ["/ui/style.css", styleCss, "text/css; charset=utf-8"],
  ["/ui/vendor/uplot.css", vendorUplotCss, "text/css; charset=utf-8"],
  ["/ui/vendor/uplot.js", vendorUplotJs, "text/javascript; charset=utf-8"],
];

interface Asset {
  readonly body: Uint8Array;
  readonly headers: readonly (readonly [string, string])[];
  readonly etag: string;
}

const ASSETS = new Map<string, Asset>(FILES.map(([path, body, type]) => {
  const etag = `"${
    createHash("sha256").update(body).digest("hex").slice(0, 32)
  }"`;
  const headers = [
    ["content-type", type],
    ["cache-control", "no-cache"],
    ["etag", etag],
    ...SECURITY_HEADERS,
  ] as const;
  return [path, { body, headers, etag }];
}));

/** Tells whether a path is the dashboard's: `/` or under `/ui/`. */
export function isDashboardPath(path: string): boolean {
  return path === "/" || path.startsWith("/ui/");
}

/** `GET /` and `GET /ui/<file>`: the file, 304 when unchanged, else 404. */
export function dashboardEndpoint(request: HttpRequest): HttpResponse {
  if (request.method !== "GET") return failure(405, "method not allowed");
  const asset = ASSETS.get(request.path);
  if (asset === undefined) return failure(404, "not found");
  if (request.headers.get("if-none-match") === asset.etag) {
    return { status: 304, headers: asset.headers };
  }
  return { status: 200, headers: asset.headers, body: asset.body };
}
