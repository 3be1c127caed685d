/**
 * The startup errors of postgres mode through the real command line
 * (cluster.md §1): exact messages, exit 1, no password anywhere.
 */
import assert from "node:assert/strict";
import { tempDir, writeFile } from "../_helpers/fs.ts";
import { ADMIN_URL } from "../_helpers/postgres.ts";
import { runZtick } from "../_helpers/subprocess.ts";

/** Runs `ztick -c` on a config of these lines. */
async function start(dir: string, toml: string) {
  const path = await writeFile(
    `${dir}/ztick.toml`,
    `[log]\nlevel = "off"\n[controller]\nlisten = "127.0.0.1:0"\n${toml}`,
  );
  return await runZtick(["-c", path]);
}

const URL_REQUIRED =
  'error: config: [database] postgres_url is required when persistence = "postgres"\n';
const NOT_POSTGRES =
  "error: config: [database] postgres_url must be a postgres:// URL\n";
const BAD_LEASE =
  "error: config: [cluster] lease must be a duration between 1s and 60s\n";
const EMPTY_NODE = "error: config: [cluster] node_id must not be empty\n";

Deno.test("postgres mode: each configuration error of cluster.md §1 stops the daemon with its exact message, exit 1", async () => {
  await using dir = await tempDir("ztick-cluster-");
  const cases: [string, string][] = [
    ['[database]\npersistence = "postgres"\n', URL_REQUIRED],
    ['[database]\npersistence = "postgres"\npostgres_url = ""\n', URL_REQUIRED],
    [
      '[database]\npersistence = "postgres"\npostgres_url = "mysql://db/ztick"\n',
      NOT_POSTGRES,
    ],
    [
      '[database]\npersistence = "postgres"\npostgres_url = "db.internal:5432"\n',
      NOT_POSTGRES,
    ],
    ['[cluster]\nlease = "999ms"\n', BAD_LEASE],
    ['[cluster]\nlease = "61s"\n', BAD_LEASE],
    ['[cluster]\nlease = "soon"\n', BAD_LEASE],
    ['[cluster]\nnode_id = ""\n', EMPTY_NODE],
    // [cluster] is validated in logfile mode too, and otherwise ignored
    [
      '[database]\npersistence = "memory"\n[cluster]\nlease = "0s"\n',
      BAD_LEASE,
    ],
  ];
  for (const [toml, expected] of cases) {
    const { code, stderr } = await start(dir.path, toml);
    assert.equal(stderr, expected, toml);
    assert.equal(code, 1, toml);
  }
});

Deno.test("postgres mode: an unreachable database or a refused login stops the daemon, the URL shown without its password", async () => {
  await using dir = await tempDir("ztick-cluster-");
  const admin = new URL(ADMIN_URL);
  const cases: [string, RegExp][] = [
    [
      "postgres://ztick:s3cret-pw@127.0.0.1:1/ztick",
      /^error: postgres: cannot connect to postgres:\/\/ztick@127\.0\.0\.1:1\/ztick: .+\n$/,
    ],
    [
      `postgresql://no_such_role:s3cret-pw@${admin.host}/ztick`,
      new RegExp(
        `^error: postgres: cannot connect to postgresql://no_such_role@${
          admin.host.replaceAll(".", "\\.")
        }/ztick: .*no_such_role.*\\n$`,
      ),
    ],
  ];
  for (const [url, expected] of cases) {
    const { code, stderr } = await start(
      dir.path,
      `[database]\npersistence = "postgres"\npostgres_url = "${url}"\n`,
    );
    assert.match(stderr, expected);
    assert.ok(!stderr.includes("s3cret-pw"), stderr);
    assert.equal(code, 1);
  }
});
