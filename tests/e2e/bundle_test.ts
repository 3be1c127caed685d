/** The shippable artifact: `deno bundle` output runs as the daemon. */
import assert from "node:assert/strict";
import { converse } from "../_helpers/client.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

Deno.test("the bundled daemon starts from one JS file, answers SET and GET and serves the dashboard", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ztick-bundle-" });
  try {
    const bundle = `${dir}/ztick.js`;
    const built = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "deno",
        "-o",
        bundle,
        "main.ts",
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
    await Deno.writeTextFile(
      `${dir}/config.toml`,
      `[controller]\nlisten = "127.0.0.1:0"\n[database]\nlogfile_path = "${dir}/logfile"\n[http]\nlisten = "127.0.0.1:0"\n`,
    );
    // Run from the temp dir: no deno.json, no node_modules, nothing but the bundle.
    const daemon = await DaemonProcess.start(`${dir}/config.toml`, {
      script: bundle,
      cwd: dir,
    });
    try {
      assert.equal(
        await converse(
          daemon.port,
          "r1 SET bundle.job 2099-01-01 00:00:00\nr2 GET bundle.job\n",
        ),
        "r1 OK\nr2 OK planned 4070908800000000000\n",
      );
      await assertServesDashboard(daemon);
    } finally {
      assert.equal(await daemon.stop("SIGTERM"), 0);
    }
    assert.equal(
      await Deno.readTextFile(`${dir}/logfile`),
      "SET bundle.job 4070908800000000000 planned\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The bundle holds the dashboard's files: `/` and `/ui/app.js`, byte for byte. */
async function assertServesDashboard(daemon: DaemonProcess): Promise<void> {
  const line = await daemon.waitForLog(/HTTP listening on \S+:(\d+)\n/);
  const base = `http://127.0.0.1:${line[1]}`;
  const files = [
    ["/", "index.html", "text/html; charset=utf-8"],
    ["/ui/app.js", "app.js", "text/javascript; charset=utf-8"],
  ] as const;
  for (const [path, file, type] of files) {
    const response = await fetch(base + path);
    const body = new Uint8Array(await response.arrayBuffer());
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), type, path);
    assert.deepEqual(
      body,
      await Deno.readFile(`${ROOT}src/server/http/dashboard/${file}`),
      path,
    );
  }
}
