/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of exactly what the HTTP
 * API serves (spec: http-api.md §3).
 *
 * @module
 */

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const content = (schema: Json) => ({ "application/json": { schema } });
const answer = (description: string, schema?: Json) =>
  schema ? { description, content: content(schema) } : { description };
const error = (description: string) => answer(description, ref("Error"));
const BEARER = [{ bearer: [] }];
const PUBLIC: never[] = [];

const ERRORS = {
  "400": error(
    "Bad input: `invalid json`, `missing content-length`, `missing resource id`, `invalid query`, `invalid rule options`, runner messages, `bad request`",
  ),
  "401": error(
    "`unauthorized` (authentication on, Bearer token missing or unknown)",
  ),
  "403": error("`forbidden`: an id or pattern outside the token's namespace"),
  "405": error("`method not allowed`"),
};

const ID = {
  name: "id",
  in: "path",
  required: true,
  description: "The rest of the path, percent-decoded; may contain `/` and `.`",
  schema: { type: "string", minLength: 1 },
};
const query = (name: string, description: string, schema: Json) => ({
  name,
  in: "query",
  required: false,
  description,
  schema,
});

const NS = {
  type: "integer",
  description: "Nanoseconds since the epoch (exact; beyond 2^53)",
};

const SCHEMAS = {
  Error: {
    type: "object",
    required: ["error"],
    properties: { error: { type: "string" } },
  },
  Job: {
    type: "object",
    required: ["id", "status", "execution"],
    properties: {
      id: { type: "string" },
      status: { enum: ["planned", "triggered", "executed", "failed"] },
      execution: NS,
      attempt: {
        type: "integer",
        minimum: 2,
        description:
          "The attempt of the next (or running) execution; absent means 1",
      },
      cron: {
        type: "string",
        description: "Recurring jobs only: the cron expression, as stored",
      },
      tz: {
        type: "string",
        description: "Recurring jobs only: the IANA time zone, or UTC",
      },
      catchup: { enum: ["skip", "once", "all"] },
    },
  },
  JobPut: {
    type: "object",
    description:
      "Either `execution` (a one-shot job) or `cron` (a recurring job, with optional `tz` and `catchup`), not both",
    oneOf: [{ required: ["execution"] }, { required: ["cron"] }],
    properties: {
      execution: {
        type: "string",
        format: "date-time",
        description: "RFC 3339 with an offset; fractions kept to the ns",
      },
      cron: {
        type: "string",
        description:
          "Five fields (or six, seconds first) or a nickname such as `@daily`, as for CRON",
      },
      tz: {
        type: "string",
        description: "IANA time zone the expression is read in (default UTC)",
      },
      catchup: {
        enum: ["skip", "once", "all"],
        description:
          "What happens to occurrences missed meanwhile (default once)",
      },
    },
  },
  Rule: {
    type: "object",
    required: ["id", "pattern", "runner"],
    properties: {
      id: { type: "string" },
      pattern: { type: "string" },
      runner: { enum: ["shell", "direct", "http", "awf", "amqp", "redis"] },
      options: ref("RuleOptions"),
    },
  },
  RulePut: {
    type: "object",
    required: ["pattern", "runner", "args"],
    properties: {
      pattern: { type: "string" },
      runner: { enum: ["shell", "direct", "awf", "http"] },
      args: { type: "array", items: { type: "string" } },
      options: ref("RuleOptions"),
    },
  },
  RuleOptions: {
    type: "object",
    description:
      "Retries and timeout; durations like `30s`, `1m30s`, `250ms` (canonical form in answers)",
    properties: {
      retries: { type: "integer", minimum: 0 },
      backoff: { type: "string" },
      max_backoff: { type: "string" },
      timeout: { type: "string" },
    },
    additionalProperties: false,
  },
  Run: {
    type: "object",
    required: [
      "job",
      "attempt",
      "started",
      "ended",
      "outcome",
      "rule",
      "detail",
      "message",
    ],
    properties: {
      job: { type: "string" },
      attempt: { type: "integer", minimum: 1 },
      started: NS,
      ended: NS,
      outcome: { enum: ["executed", "failed"] },
      rule: { type: "string", description: "Empty when no rule matched" },
      detail: {
        type: "string",
        description: "`exit:3`, `signal:SIGKILL`, `http:503`, `timeout`, …",
      },
      message: { type: "string", description: "At most 512 bytes" },
    },
  },
  Stats: {
    type: "object",
    required: ["stat", "executions_per_minute", "upcoming_per_hour", "lag_ms"],
    properties: {
      stat: { type: "object", additionalProperties: true },
      executions_per_minute: { type: "object" },
      upcoming_per_hour: { type: "object" },
      lag_ms: { type: "object" },
    },
  },
  Health: {
    type: "object",
    required: ["status"],
    properties: {
      status: { const: "ok" },
      role: { enum: ["single", "leader", "follower"] },
    },
  },
};

/** Every path served, with its methods and answers. */
const PATHS: Json = {
  "/health": {
    get: {
      security: PUBLIC,
      responses: {
        "200": answer("Alive", ref("Health")),
        "405": ERRORS["405"],
      },
    },
  },
  "/health/leader": {
    get: {
      security: PUBLIC,
      responses: {
        "200": answer(
          "This node leads, or there is no cluster",
          ref("Health"),
        ),
        "503": answer("A follower", ref("Health")),
        "405": ERRORS["405"],
      },
    },
  },
  "/openapi.json": {
    get: {
      security: PUBLIC,
      responses: {
        "200": answer("This document", { type: "object" }),
        "405": ERRORS["405"],
      },
    },
  },
  "/jobs": {
    get: {
      parameters: [
        query("prefix", "Only ids starting with it", { type: "string" }),
        query("status", "Only jobs of this status", {
          enum: ["planned", "triggered", "executed", "failed"],
        }),
        query("limit", "At most this many, sorted by id", {
          type: "integer",
          minimum: 1,
          maximum: 1000,
        }),
        query(
          "after",
          "Only ids greater than it (byte order), sorted by id",
          { type: "string" },
        ),
      ],
      responses: {
        "200": answer("The jobs", { type: "array", items: ref("Job") }),
        ...ERRORS,
      },
    },
  },
  "/jobs/{id}": {
    parameters: [ID],
    put: {
      requestBody: { required: true, content: content(ref("JobPut")) },
      responses: {
        "200": answer("The stored job, once durable", ref("Job")),
        "413": error("`body too large` (over 1 MiB)"),
        "503": error("`read-only` or `not persisted`"),
        ...ERRORS,
      },
    },
    get: {
      responses: {
        "200": answer("The job", ref("Job")),
        "404": error("`not found`"),
        ...ERRORS,
      },
    },
    delete: {
      responses: {
        "204": { description: "Removed, once durable" },
        "404": error("`not found`"),
        "503": error("`read-only` or `not persisted`"),
        ...ERRORS,
      },
    },
  },
  "/rules": {
    get: {
      parameters: [
        query("prefix", "Only rule ids starting with it", { type: "string" }),
      ],
      responses: {
        "200": answer("The rules", { type: "array", items: ref("Rule") }),
        ...ERRORS,
      },
    },
  },
  "/rules/{id}": {
    parameters: [ID],
    put: {
      requestBody: { required: true, content: content(ref("RulePut")) },
      responses: {
        "200": answer("The stored rule, once durable", ref("Rule")),
        "413": error("`body too large` (over 1 MiB)"),
        "503": error("`read-only` or `not persisted`"),
        ...ERRORS,
      },
    },
    delete: {
      responses: {
        "204": { description: "Removed, once durable" },
        "404": error("`not found`"),
        "503": error("`read-only` or `not persisted`"),
        ...ERRORS,
      },
    },
  },
  "/executions": {
    get: {
      description:
        "Exactly one of `job` (that job's kept runs, oldest first) or `failed=1` (the latest failed runs of all jobs, newest first by `ended`)",
      parameters: [
        query("job", "A job id: its runs", { type: "string", minLength: 1 }),
        query("failed", "`1`: the latest failed runs", { const: "1" }),
        query("limit", "With `failed=1`: at most this many (default 50)", {
          type: "integer",
          minimum: 1,
          maximum: 1000,
        }),
      ],
      responses: {
        "200": answer("The runs", { type: "array", items: ref("Run") }),
        "404": error("`not found`: no such job"),
        ...ERRORS,
      },
    },
  },
  "/metrics": {
    get: {
      responses: {
        "200": {
          description: "Prometheus text format 0.0.4",
          content: { "text/plain": { schema: { type: "string" } } },
        },
        "401": ERRORS["401"],
        "405": ERRORS["405"],
      },
    },
  },
  "/stats": {
    get: {
      responses: {
        "200": answer("The dashboard's figures", ref("Stats")),
        "401": ERRORS["401"],
        "405": ERRORS["405"],
      },
    },
  },
  "/": {
    get: {
      security: PUBLIC,
      responses: {
        "200": {
          description: "The dashboard",
          content: { "text/html": { schema: { type: "string" } } },
        },
        "405": ERRORS["405"],
      },
    },
  },
  "/ui/{file}": {
    parameters: [{
      name: "file",
      in: "path",
      required: true,
      schema: { type: "string" },
    }],
    get: {
      security: PUBLIC,
      responses: {
        "200": { description: "A dashboard asset" },
        "404": error("`not found`"),
        "405": ERRORS["405"],
      },
    },
  },
};

/** The document, with `info.version` the product version. */
export function openApiDocument(version: string): string {
  return JSON.stringify({
    openapi: "3.1.0",
    info: {
      title: "ztick HTTP API",
      version,
      description: "Jobs and rules of a ztick daemon, as on its TCP protocol.",
    },
    security: BEARER,
    paths: PATHS,
    components: {
      schemas: SCHEMAS,
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
  });
}
