/** Error assertions and the example configuration shared by the config tests. */
import assert from "node:assert/strict";
import { loadConfig } from "../../../src/config/config.ts";
import { ConfigError } from "../../../src/config/config_error.ts";

/** Asserts that `fn` throws a ConfigError whose message is exactly `message`. */
export function assertConfigError(fn: () => unknown, message: string): void {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    assert.equal(error.name, "ConfigError");
    assert.equal(error.message, message);
    return true;
  });
}

export async function assertLoadError(
  path: string | undefined,
  message: string | RegExp,
): Promise<void> {
  await assert.rejects(() => loadConfig(path), (error) => {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error}`);
    if (typeof message === "string") assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

export const EXAMPLE = `
[log]
level = "debug"
format = "json"

[controller]
listen = "0.0.0.0:5679"
auth_file = "/etc/ztick/auth.toml"
tls_cert = "/etc/ztick/cert.pem"
tls_key = "/etc/ztick/key.pem"
max_connections = 500

[shell]
path = "/bin/bash"
args = ["-e", "-c"]

[database]
persistence = "memory"
logfile_path = "/var/lib/ztick/logfile"
fsync_on_persist = false
framerate = 60
compression_interval = 0

[telemetry]
enabled = true
endpoint = "http://otel.local:4318"
service_name = "ztick-prod"
flush_interval_ms = 1000

[http]
listen = "[::1]:8080"

[execution]
concurrency = 8
timeout = 900
on_interrupted = "fail"
history = 0
`;
