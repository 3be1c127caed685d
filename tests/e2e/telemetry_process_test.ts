/**
 * OpenTelemetry export from `main.ts` run with exactly the permissions of
 * `deno task start` (the SDK must need no more), and what "off" means: the
 * SDK is not even loaded (spec: configuration.md §6).
 */
import assert from "node:assert/strict";
import { TestClient, waitFor } from "../_helpers/client.ts";
import { tempDir, writeFile } from "../_helpers/fs.ts";
import {
  attributesOf,
  logsOf,
  metricsOf,
  spansOf,
  startOtlpReceiver,
} from "../_helpers/otlp_receiver.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";

const ROOT = new URL("../../", import.meta.url);

function config(dir: string, telemetry: string): string {
  return `[log]
level = "info"

[controller]
listen = "127.0.0.1:0"

[database]
logfile_path = "${dir}/logfile"
fsync_on_persist = false

[telemetry]
${telemetry}
`;
}

Deno.test("the daemon exports with the start task's permissions alone: no OTEL_* variable is read, nothing is denied", async () => {
  await using tmp = await tempDir("ztick-otel-");
  await using receiver = startOtlpReceiver();
  const path = await writeFile(
    `${tmp.path}/ztick.toml`,
    config(
      tmp.path,
      `enabled = true\nendpoint = "${receiver.endpoint}"\nservice_name = "ztick-process"\nflush_interval_ms = 100`,
    ),
  );
  await using daemon = await DaemonProcess.start(path, {
    ready: /listening on \S+:(\d+)/,
  });
  using client = await TestClient.connect(daemon.port);
  assert.equal(await client.request("r1 SET job.1 1"), "r1 OK"); // early SET: a warn record
  await waitFor(
    () =>
      spansOf(receiver).some(({ item }) =>
          attributesOf(item.attributes)["ztick.request.id"] === "r1"
        ) &&
        metricsOf(receiver).some(({ item }) =>
          item.name === "jobs_scheduled"
        ) &&
        logsOf(receiver).some(({ item }) =>
          String(attributesOf([{ key: "m", value: item.body }]).m)
            .startsWith("request r1: ")
        ) || undefined,
    { what: "the SET's span, metrics and warn record" },
  );
  assert.equal(await daemon.stop("SIGTERM"), 0);
  assert.doesNotMatch(
    daemon.log,
    /NotCapable|Requires|denied|ERROR/,
    daemon.log,
  );
  assert.equal(spansOf(receiver)[0]!.resource["service.name"], "ztick-process");
});

/** The modules `specifier` loads before running: static imports only. */
async function staticGraph(specifier: string): Promise<Set<string>> {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", specifier],
    cwd: ROOT.pathname,
    stdout: "piped",
  }).output();
  const graph = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: {
      specifier: string;
      dependencies?: {
        code?: { specifier: string };
        isDynamic?: boolean;
      }[];
    }[];
    redirects?: Record<string, string>;
  };
  const redirects = graph.redirects ?? {};
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const reached = new Set<string>();
  const visit = (name: string) => {
    const resolved = redirects[name] ?? name;
    if (reached.has(resolved)) return;
    reached.add(resolved);
    for (const dependency of bySpecifier.get(resolved)?.dependencies ?? []) {
      if (!dependency.isDynamic && dependency.code) {
        visit(dependency.code.specifier);
      }
    }
  };
  visit(new URL(specifier, ROOT).href);
  return reached;
}

Deno.test("with telemetry off nothing of OpenTelemetry is loaded: the SDK is reached only through a dynamic import", async () => {
  const reached = [...await staticGraph("main.ts")];
  assert.ok(reached.some((s) => s.endsWith("/src/telemetry/telemetry.ts")));
  assert.deepEqual(
    reached.filter((s) => /opentelemetry|\/src\/telemetry\/_/.test(s)),
    [],
  );
});

Deno.test("with telemetry off the daemon sends nothing", async () => {
  await using tmp = await tempDir("ztick-otel-off-");
  await using receiver = startOtlpReceiver();
  const path = await writeFile(
    `${tmp.path}/ztick.toml`,
    // An endpoint given but not enabled.
    config(tmp.path, `enabled = false\nendpoint = "${receiver.endpoint}"`),
  );
  await using daemon = await DaemonProcess.start(path, {
    ready: /listening on \S+:(\d+)/,
  });
  using client = await TestClient.connect(daemon.port);
  assert.equal(await client.request("r1 SET job.1 1"), "r1 OK");
  assert.equal(await daemon.stop("SIGTERM"), 0);
  assert.equal(receiver.requests.length, 0);
});
