/**
 * `GET /metrics` checked by Prometheus' own parser, `promtool check
 * metrics` (Debian's prometheus package; `.ci/run` installs it), and read
 * strictly: every metric, label and bucket of observability.md §1 present,
 * with HELP and TYPE (spec: observability.md §1).
 */
import assert from "node:assert/strict";
import { waitFor } from "../_helpers/client.ts";
import { brokerGate, gatedTest } from "../_helpers/brokers.ts";
import { startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { writeFile } from "../_helpers/fs.ts";
import { VERSION } from "../../src/version.ts";
import { Api } from "./_http.ts";
import {
  histogramSeries,
  LABEL_VALUES,
  promtoolCheck,
  scrape,
  SPEC,
} from "./_metrics.ts";
import { ADMIN_SECRET, AUTH_TOML } from "./_security.ts";

async function has(program: string): Promise<boolean> {
  const { code } = await new Deno.Command("sh", {
    args: ["-c", `command -v ${program}`],
    stdout: "null",
  }).output();
  return code === 0;
}

const promtool = brokerGate("promtool on PATH", await has("promtool"));

/**
 * A daemon with an auth file, a compaction every second and something of
 * everything: rules and jobs of every status, an execution that succeeds,
 * one that fails, a due job no rule matches, a wrong token, TCP and HTTP
 * requests; returns once it all happened.
 */
async function busyDaemon(
  dir: string,
): Promise<{ daemon: TestDaemon; api: Api }> {
  const authFile = await writeFile(`${dir}/auth.toml`, AUTH_TOML);
  const daemon = await startTestDaemon({
    http: true,
    authFile,
    compressionIntervalS: 1,
  });
  const api = new Api(daemon.httpPort, ADMIN_SECRET);
  assert.equal((await api.as("wrong").get("/jobs")).status, 401);
  await api.put(
    "/rules/rule.ok",
    '{"pattern":"run.","runner":"shell","args":["true"]}',
  );
  await api.put(
    "/rules/rule.ko",
    '{"pattern":"fail.","runner":"shell","args":["false"]}',
  );
  using tcp = await daemon.connect();
  assert.equal(await tcp.request(`AUTH ${ADMIN_SECRET}`), "OK");
  for (
    const line of [
      "SET run.1 1",
      "SET fail.1 1",
      "SET none.1 1",
      "SET later 4102444800000000000",
    ]
  ) {
    assert.equal(await tcp.request(`r1 ${line}`), "r1 OK");
  }
  await waitFor(async () => {
    const jobs = JSON.parse((await api.get("/jobs")).body) as {
      id: string;
      status: string;
    }[];
    const status = Object.fromEntries(jobs.map((job) => [job.id, job.status]));
    return status["run.1"] === "executed" && status["fail.1"] === "failed" &&
        status["none.1"] === "failed" ||
      undefined;
  }, { what: "the executions" });
  await waitFor(
    async () =>
      /^r2 compression success$/m.test(await tcp.request("r2 STAT")) ||
      undefined,
    {
      what: "a compaction",
    },
  );
  return { daemon, api };
}

Deno.test("every metric, label and bucket of observability.md §1 is in /metrics, with HELP and TYPE", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-metrics-" });
  try {
    const { daemon, api } = await busyDaemon(dir);
    await using _ = daemon;
    const { text, families } = await scrape(api);
    // exactly the spec's metrics, in its order
    assert.deepEqual([...families.keys()], Object.keys(SPEC));
    for (const [name, spec] of Object.entries(SPEC)) {
      const family = families.get(name)!;
      assert.equal(family.type, spec.type, name);
      assert.ok(family.help.length > 0, `${name} has HELP`);
      // retries come with rule options: no runner has retried yet
      if (name !== "ztick_retries_total") {
        assert.ok(family.samples.length > 0, `${name} has a sample`);
      }
      for (const sample of family.samples) {
        const { le, ...labels } = sample.labels;
        assert.equal(
          le !== undefined,
          sample.name.endsWith("_bucket"),
          sample.name,
        );
        assert.deepEqual(
          Object.keys(labels).sort(),
          [...spec.labels].sort(),
          name,
        );
        for (const [label, value] of Object.entries(labels)) {
          if (label === "version") assert.equal(value, VERSION);
          else {assert.ok(
              LABEL_VALUES[label]!.includes(value),
              `${name}{${label}="${value}"}`,
            );}
        }
      }
      if (spec.type !== "histogram") continue;
      for (const series of histogramSeries(family)) {
        const les = series.buckets.map(([le]) => le);
        assert.deepEqual(les, [...spec.buckets!, "+Inf"], `${name} buckets`);
        const counts = series.buckets.map(([, count]) => count);
        assert.deepEqual(
          counts,
          [...counts].sort((a, b) => a - b),
          `${name}: cumulative`,
        );
        assert.equal(counts.at(-1), series.count, `${name}: +Inf is the count`);
        assert.ok(series.sum >= 0, `${name}: a sum`);
      }
    }
    const values = (
      name: string,
      label: string,
    ) => [...new Set(families.get(name)!.samples.map((s) => s.labels[label]))];
    assert.deepEqual(values("ztick_jobs", "status"), LABEL_VALUES.status);
    assert.deepEqual(
      values("ztick_connections", "protocol"),
      LABEL_VALUES.protocol,
    );
    assert.deepEqual(values("ztick_compactions_total", "outcome"), [
      "success",
      "failure",
    ]);
    assert.deepEqual(
      new Set(values("ztick_executions_total", "outcome")),
      new Set(["executed", "failed"]),
    );
    assert.deepEqual(values("ztick_execution_duration_seconds", "runner"), [
      "shell",
    ]);
    assert.match(text, /^ztick_build_info\{version="[^"]+"\} 1$/m);
    // label values are fixed words: no job or rule id appears
    for (
      const id of ["run.1", "fail.1", "none.1", "later", "rule.ok", "rule.ko"]
    ) {
      assert.ok(!text.includes(id), `${id} in /metrics`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

gatedTest(
  promtool,
  "promtool check metrics finds no error and nothing to lint in /metrics",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ztick-promtool-" });
    try {
      const { daemon, api } = await busyDaemon(dir);
      await using _ = daemon;
      const { text } = await scrape(api);
      const { success, said } = await promtoolCheck(text);
      assert.ok(success, said);
      assert.equal(said, "", "no lint problems");
      // the same check refuses a broken exposition (it is not a yes-man)
      const broken = await promtoolCheck(
        text.replace("ztick_rules ", "ztick_rules{"),
      );
      assert.equal(broken.success, false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
