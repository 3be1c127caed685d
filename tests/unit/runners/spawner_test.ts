import assert from "node:assert/strict";
import { openLibc } from "../../../src/runners/_spawn_libc.ts";
import { Spawner } from "../../../src/runners/_spawner.ts";

const decoder = new TextDecoder();

// At import: a library opened inside a test counts as a leak.
const opened = openLibc();
function libc() {
  if (opened instanceof Error) throw opened;
  return opened.symbols;
}

Deno.test("Spawner waits with blocking waitpid when there is no pidfd", async () => {
  await using spawner = new Spawner(libc(), { blockingWait: true });
  const scripts = [
    "echo one >&2; exit 3",
    "echo two >&2; sleep 2 & exit 0", // a grandchild keeps stderr open
    "kill -TERM $$",
  ];
  const exits = await Promise.all(scripts.map(async (script) => {
    const started = await spawner.spawn("/bin/sh", ["-c", script], []);
    assert.equal(started.kind, "spawned");
    return started.kind === "spawned" ? await started.exit : undefined;
  }));
  assert.deepEqual(
    exits.map((e) =>
      e?.kind === "exited" && [e.status, decoder.decode(e.stderr)]
    ),
    [[3 << 8, "one\n"], [0, "two\n"], [15, ""]],
  );
  assert.equal(spawner.running, 0);
});

Deno.test("Spawner holds at most maxParallelSpawns posix_spawnp calls", async () => {
  await using spawner = new Spawner(libc(), { maxParallelSpawns: 1 });
  const exits = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const started = await spawner.spawn("/bin/sh", ["-c", `exit ${i}`], []);
    return started.kind === "spawned" ? (await started.exit) : undefined;
  }));
  assert.deepEqual(
    exits.map((e) => e?.kind === "exited" ? e.status >> 8 : -1),
    Array.from({ length: 20 }, (_, i) => i),
  );
});

Deno.test("Spawner puts the job variables before the daemon's environment", async () => {
  await using spawner = new Spawner(libc());
  const started = await spawner.spawn("/bin/sh", [
    "-c",
    'printf "%s|%s" "$ZTICK_RULE_ID" "${HOME+home}" >&2',
  ], ["ZTICK_RULE_ID=r.1"]);
  assert.equal(started.kind, "spawned");
  const exit = started.kind === "spawned" ? await started.exit : undefined;
  assert.equal(
    exit?.kind === "exited" && decoder.decode(exit.stderr),
    "r.1|home",
  );
});
