import type { Config } from "../../src/config/config.ts";
import { Daemon } from "../../src/daemon.ts";
import type { Clock } from "../../src/scheduler/ports.ts";
import { TestClient } from "./client.ts";

/** Settings a test may change; everything else takes the spec's defaults. */
export interface TestDaemonOptions {
  readonly persistence?: "logfile" | "memory";
  /** Reuse a directory (restart tests); a fresh temp dir otherwise. */
  readonly dir?: string;
  readonly fsyncOnPersist?: boolean;
  readonly compressionIntervalS?: number;
  readonly concurrency?: number;
  readonly timeoutS?: number;
  readonly onInterrupted?: "rerun" | "fail";
  readonly history?: number;
  readonly retentionMs?: number;
  readonly shell?: { path: string; args: string[] };
  readonly authFile?: string;
  readonly tls?: { cert: string; key: string };
  readonly maxConnections?: number;
  readonly clock?: Clock;
  /** Also serve the HTTP API (`[http] listen = "127.0.0.1:0"`). */
  readonly http?: boolean;
  /** `[telemetry] enabled = true` with this endpoint (and interval, 100 ms). */
  readonly telemetry?: {
    readonly endpoint: string;
    readonly serviceName?: string;
    readonly flushIntervalMs?: number;
  };
}

/** A daemon started in this process on a free loopback port. */
export interface TestDaemon extends AsyncDisposable {
  readonly daemon: Daemon;
  readonly port: number;
  /** The HTTP API's port; throws unless started with `http: true`. */
  readonly httpPort: number;
  readonly dir: string;
  readonly logfile: string;
  connect(): Promise<TestClient>;
  /** Stops the daemon, keeping its directory (for restarts). */
  stop(): Promise<void>;
}

/** Builds a configuration as a config file with these settings would. */
export function testConfig(
  dir: string,
  options: TestDaemonOptions = {},
): Config {
  return {
    path: undefined,
    log: { level: "off", format: "text" },
    controller: {
      listen: { hostname: "127.0.0.1", port: 0, text: "127.0.0.1:0" },
      ...(options.authFile ? { authFile: options.authFile } : {}),
      ...(options.tls
        ? { tlsCert: options.tls.cert, tlsKey: options.tls.key }
        : {}),
      ...(options.maxConnections
        ? { maxConnections: options.maxConnections }
        : {}),
    },
    shell: options.shell ?? { path: "/bin/sh", args: ["-c"] },
    database: {
      persistence: options.persistence ?? "logfile",
      logfilePath: `${dir}/logfile`,
      fsyncOnPersist: options.fsyncOnPersist ?? false,
      framerate: 512,
      compressionIntervalS: options.compressionIntervalS ?? 0,
    },
    telemetry: options.telemetry
      ? {
        enabled: true,
        endpoint: options.telemetry.endpoint,
        serviceName: options.telemetry.serviceName ?? "ztick",
        flushIntervalMs: options.telemetry.flushIntervalMs ?? 100,
      }
      : { enabled: false, serviceName: "ztick", flushIntervalMs: 5000 },
    http: options.http
      ? { listen: { hostname: "127.0.0.1", port: 0, text: "127.0.0.1:0" } }
      : {},
    execution: {
      concurrency: options.concurrency ?? 16,
      timeoutS: options.timeoutS ?? 0,
      onInterrupted: options.onInterrupted ?? "rerun",
      history: options.history ?? 10,
      retentionMs: options.retentionMs ?? 0,
    },
    cluster: { leaseMs: 5000 },
  };
}

/** Starts a daemon in-process; `await using` stops it and removes its directory. */
export async function startTestDaemon(
  options: TestDaemonOptions = {},
): Promise<TestDaemon> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "ztick-test-" });
  const daemon = await Daemon.start(
    testConfig(dir, options),
    options.clock ? { clock: options.clock } : {},
  );
  const port = daemon.addr.port;
  return {
    daemon,
    port,
    get httpPort() {
      const addr = daemon.httpAddr;
      if (addr === undefined) {
        throw new Error("no HTTP port: start with { http: true }");
      }
      return addr.port;
    },
    dir,
    logfile: `${dir}/logfile`,
    connect: () => TestClient.connect(port),
    stop: () => daemon.stop(),
    async [Symbol.asyncDispose]() {
      await daemon.stop();
      if (ownDir) await Deno.remove(dir, { recursive: true });
    },
  };
}
