/** Every startup error of configuration.md §3 that parseConfig() reports, for config_errors_test.ts. */

/** [what, TOML text, exact message]. */
export const ERRORS: [string, string, string][] = [
  // TOML syntax
  [
    "a TOML syntax error",
    "[controller\nlisten = 1\n",
    "config: invalid TOML: line 1, column 12: illegal character in key",
  ],
  [
    "an unterminated string",
    '[log]\nlevel = "info\n',
    "config: invalid TOML: line 2, column 14: control characters are not allowed in strings",
  ],
  [
    "a key defined twice",
    '[log]\nlevel = "info"\nlevel = "debug"\n',
    "config: invalid TOML: line 3, column 1: trying to redefine an already defined table or value",
  ],
  // unknown sections
  ["an unknown section", "[foo]\n", "config: unknown section [foo]"],
  [
    "an unknown nested table",
    "[controller.extra]\na = 1\n",
    "config: unknown section [controller.extra]",
  ],
  [
    "a nested table under an unknown section",
    "[foo.bar]\n",
    "config: unknown section [foo]",
  ],
  [
    "an inline table under an unknown key",
    "[database]\nextra = { a = 1 }\n",
    "config: unknown section [database.extra]",
  ],
  [
    "a dotted unknown key",
    "[execution]\nlimits.max = 1\n",
    "config: unknown section [execution.limits]",
  ],
  [
    "an array of tables at top level",
    '[[controller]]\nlisten = "127.0.0.1:1"\n',
    "config: unknown section [[controller]]",
  ],
  [
    "an array of tables in a section",
    "[[log.extra]]\n",
    "config: unknown section [[log.extra]]",
  ],
  // unknown keys
  [
    "an unknown key",
    "[database]\nfsync = true\n",
    'config: unknown key "fsync" in [database]',
  ],
  [
    "an unknown key at top level",
    "framerate = 512\n",
    'config: unknown key "framerate" at top level',
  ],
  [
    "a section name used as a top-level key",
    'log = "debug"\n',
    'config: unknown key "log" at top level',
  ],
  [
    "an array that is not of tables in a section",
    "[log]\nlevels = [1]\n",
    'config: unknown key "levels" in [log]',
  ],
  [
    "a key that belongs to another section",
    "[controller]\nconcurrency = 4\n",
    'config: unknown key "concurrency" in [controller]',
  ],
  // wrong types
  [
    "a number for a string",
    "[log]\nlevel = 3\n",
    "config: [log] level must be a string",
  ],
  [
    "an inline table for a known key",
    '[controller]\nlisten = { host = "a" }\n',
    "config: [controller] listen must be a string",
  ],
  [
    "a table for a known key",
    '[controller.listen]\nhost = "a"\n',
    "config: [controller] listen must be a string",
  ],
  [
    "a date for a string",
    "[controller]\nauth_file = 2026-04-01\n",
    "config: [controller] auth_file must be a string",
  ],
  [
    "a number for tls_cert",
    '[controller]\ntls_cert = 1\ntls_key = "k"\n',
    "config: [controller] tls_cert must be a string",
  ],
  [
    "a boolean for tls_key",
    '[controller]\ntls_cert = "c"\ntls_key = true\n',
    "config: [controller] tls_key must be a string",
  ],
  [
    "an array for [http] listen",
    '[http]\nlisten = ["a:1"]\n',
    "config: [http] listen must be a string",
  ],
  [
    "a number for [shell] path",
    "[shell]\npath = 1\n",
    "config: [shell] path must be a string",
  ],
  [
    "a string for a boolean",
    '[database]\nfsync_on_persist = "yes"\n',
    "config: [database] fsync_on_persist must be a boolean",
  ],
  [
    "an integer for a boolean",
    "[telemetry]\nenabled = 1\n",
    "config: [telemetry] enabled must be a boolean",
  ],
  [
    "a float for an integer (512.0)",
    "[database]\nframerate = 512.0\n",
    "config: [database] framerate must be an integer",
  ],
  [
    "a string for an integer",
    '[execution]\nconcurrency = "4"\n',
    "config: [execution] concurrency must be an integer",
  ],
  [
    "inf for an integer",
    "[execution]\ntimeout = inf\n",
    "config: [execution] timeout must be an integer",
  ],
  [
    "a float for compression_interval",
    "[database]\ncompression_interval = 1e3\n",
    "config: [database] compression_interval must be an integer",
  ],
  [
    "a float for flush_interval_ms",
    "[telemetry]\nflush_interval_ms = 5000.5\n",
    "config: [telemetry] flush_interval_ms must be an integer",
  ],
  [
    "a float for max_connections",
    "[controller]\nmax_connections = 10.0\n",
    "config: [controller] max_connections must be an integer",
  ],
  [
    "a string for args",
    '[shell]\nargs = "-c"\n',
    "config: [shell] args must be an array of strings",
  ],
  [
    "a mixed array for args",
    '[shell]\nargs = ["-c", 1]\n',
    "config: [shell] args must be an array of strings",
  ],
  [
    "a number for persistence",
    "[database]\npersistence = 0\n",
    "config: [database] persistence must be a string",
  ],
  [
    "a number for on_interrupted",
    "[execution]\non_interrupted = false\n",
    "config: [execution] on_interrupted must be a string",
  ],
  [
    "a number for service_name",
    "[telemetry]\nservice_name = 1\n",
    "config: [telemetry] service_name must be a string",
  ],
  [
    "a number for endpoint",
    "[telemetry]\nendpoint = 4318\n",
    "config: [telemetry] endpoint must be a string",
  ],
  [
    "a number for logfile_path",
    "[database]\nlogfile_path = 1\n",
    "config: [database] logfile_path must be a string",
  ],
  // values
  [
    "an unknown log level",
    '[log]\nlevel = "verbose"\n',
    "config: [log] level must be one of off, error, warn, info, debug, trace",
  ],
  [
    "an unknown log format",
    '[log]\nformat = "logfmt"\n',
    'config: [log] format must be "text" or "json"',
  ],
  [
    "a log format that is not a string",
    "[log]\nformat = true\n",
    "config: [log] format must be a string",
  ],
  [
    "a log level in capitals",
    '[log]\nlevel = "INFO"\n',
    "config: [log] level must be one of off, error, warn, info, debug, trace",
  ],
  [
    "a controller listen address without port",
    '[controller]\nlisten = "127.0.0.1"\n',
    'config: [controller] listen must be "host:port"',
  ],
  [
    "an http listen address with a port out of range",
    '[http]\nlisten = "127.0.0.1:65536"\n',
    'config: [http] listen must be "host:port"',
  ],
  [
    "only tls_cert",
    '[controller]\ntls_cert = "c.pem"\n',
    "config: [controller] tls_cert and tls_key must be set together",
  ],
  [
    "only tls_key",
    '[controller]\ntls_key = "k.pem"\n',
    "config: [controller] tls_cert and tls_key must be set together",
  ],
  [
    "an unknown persistence",
    '[database]\npersistence = "disk"\n',
    'config: [database] persistence must be "logfile", "memory" or "postgres"',
  ],
  [
    "an empty logfile_path",
    '[database]\nlogfile_path = ""\n',
    "config: [database] logfile_path must not be empty",
  ],
  [
    "framerate 0",
    "[database]\nframerate = 0\n",
    "config: [database] framerate must be between 1 and 65535",
  ],
  [
    "a negative framerate",
    "[database]\nframerate = -1\n",
    "config: [database] framerate must be between 1 and 65535",
  ],
  [
    "framerate 65536",
    "[database]\nframerate = 65536\n",
    "config: [database] framerate must be between 1 and 65535",
  ],
  [
    "a negative compression_interval",
    "[database]\ncompression_interval = -1\n",
    "config: [database] compression_interval must be between 0 and 4294967295",
  ],
  [
    "compression_interval 2^32",
    "[database]\ncompression_interval = 4294967296\n",
    "config: [database] compression_interval must be between 0 and 4294967295",
  ],
  [
    "telemetry enabled without endpoint",
    "[telemetry]\nenabled = true\n",
    "config: [telemetry] endpoint is required when enabled = true",
  ],
  [
    "a non-http endpoint",
    '[telemetry]\nendpoint = "ftp://otel.local"\n',
    "config: [telemetry] endpoint must be an http:// or https:// URL",
  ],
  [
    "an endpoint without scheme",
    '[telemetry]\nenabled = true\nendpoint = "otel.local:4318"\n',
    "config: [telemetry] endpoint must be an http:// or https:// URL",
  ],
  [
    "an empty endpoint",
    '[telemetry]\nenabled = true\nendpoint = ""\n',
    "config: [telemetry] endpoint must be an http:// or https:// URL",
  ],
  [
    "an endpoint without host",
    '[telemetry]\nendpoint = "http://"\n',
    "config: [telemetry] endpoint must be an http:// or https:// URL",
  ],
  [
    "an endpoint with a query",
    '[telemetry]\nendpoint = "http://otel.local/?x=1"\n',
    "config: [telemetry] endpoint must be an http:// or https:// URL",
  ],
  [
    "an empty service_name",
    '[telemetry]\nservice_name = ""\n',
    "config: [telemetry] service_name must not be empty",
  ],
  [
    "flush_interval_ms 0",
    "[telemetry]\nflush_interval_ms = 0\n",
    "config: [telemetry] flush_interval_ms must be between 1 and 4294967295",
  ],
  [
    "flush_interval_ms 2^32",
    "[telemetry]\nflush_interval_ms = 4294967296\n",
    "config: [telemetry] flush_interval_ms must be between 1 and 4294967295",
  ],
  [
    "concurrency 0",
    "[execution]\nconcurrency = 0\n",
    "config: [execution] concurrency must be between 1 and 1024",
  ],
  [
    "concurrency 1025",
    "[execution]\nconcurrency = 1025\n",
    "config: [execution] concurrency must be between 1 and 1024",
  ],
  [
    "a negative timeout",
    "[execution]\ntimeout = -5\n",
    "config: [execution] timeout must be between 0 and 4294967295",
  ],
  [
    "a timeout above int64",
    "[execution]\ntimeout = 99999999999999999999\n",
    "config: [execution] timeout must be between 0 and 4294967295",
  ],
  [
    "an unknown on_interrupted",
    '[execution]\non_interrupted = "skip"\n',
    'config: [execution] on_interrupted must be "rerun" or "fail"',
  ],
  [
    "a negative history",
    "[execution]\nhistory = -1\n",
    "config: [execution] history must be between 0 and 1000",
  ],
  [
    "history 1001",
    "[execution]\nhistory = 1001\n",
    "config: [execution] history must be between 0 and 1000",
  ],
  [
    "a string for history",
    '[execution]\nhistory = "10"\n',
    "config: [execution] history must be an integer",
  ],
  ...["2 h", "1h30m", "-1s", "1.5s", "10S", "", "4294967296s"].map((
    value,
  ): [string, string, string] => [
    `retention ${JSON.stringify(value)}`,
    `[execution]\nretention = ${JSON.stringify(value)}\n`,
    "config: [execution] retention must be a duration",
  ]),
  [
    "a number for retention",
    "[execution]\nretention = 3600\n",
    "config: [execution] retention must be a duration",
  ],
  [
    "max_connections 0",
    "[controller]\nmax_connections = 0\n",
    "config: [controller] max_connections must be between 1 and 1000000",
  ],
  [
    "max_connections 1000001",
    "[controller]\nmax_connections = 1000001\n",
    "config: [controller] max_connections must be between 1 and 1000000",
  ],
];
