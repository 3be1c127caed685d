/**
 * Memory of idle connections: starts the daemon as `deno task start` does,
 * opens N idle connections (default 5,000), and prints the daemon's RSS
 * before, with them open, and after they closed.
 *
 *     deno run -A bench/idle_connections.ts [N]
 *
 * @module
 */
import { startZtick } from "./_ztick.ts";

const count = Number(Deno.args[0] ?? 5000);

function rssMiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round(kib / 102.4) / 10;
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1500));
}

const daemon = await startZtick({ fsync: false });
try {
  const pid = daemon.proc.pid;
  await settle();
  const before = rssMiB(pid);
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < count; i++) {
    conns.push(
      await Deno.connect({ hostname: "127.0.0.1", port: daemon.port }),
    );
  }
  // One request each, so every connection has been read from once.
  const probe = new TextEncoder().encode("r1 GET x\n");
  const answer = new Uint8Array(64);
  for (const conn of conns) {
    await conn.write(probe);
    await conn.read(answer);
  }
  await settle();
  const open = rssMiB(pid);
  for (const conn of conns) conn.close();
  await settle();
  const after = rssMiB(pid);
  // V8 gives memory back lazily, after its next collections.
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const later = rssMiB(pid);
  // deno-lint-ignore no-console
  console.log(
    `${count} idle connections: RSS ${before} MiB before, ${open} MiB open ` +
      `(${
        ((open - before) * 1024 / count).toFixed(1)
      } KiB each), ${after} MiB after closing, ${later} MiB 10 s later`,
  );
} finally {
  await daemon.stop();
}
