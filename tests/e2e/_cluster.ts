/** Nodes of a postgres-mode cluster as real processes, for the ha_* tests. */
import { TestClient } from "../_helpers/client.ts";
import { writeFile } from "../_helpers/fs.ts";
import { DaemonProcess } from "../_helpers/subprocess.ts";

/** A free loopback port (bound, then released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** One node: its process and ports. */
export interface Node {
  readonly id: string;
  readonly port: number;
  readonly httpPort: number;
  process: DaemonProcess;
}

/** Starts a node on `url`; it is ready once its HTTP API listens. */
export async function startNode(
  dir: string,
  url: string,
  { id, lease, port, httpPort, extra = "" }: {
    id: string;
    /** More TOML, after the node's own sections. */
    extra?: string;
    /** `[cluster] lease`; the default (5s) when absent. */
    lease?: string | undefined;
    port?: number;
    httpPort?: number;
  },
): Promise<Node> {
  const protocol = port ?? freePort();
  const http = httpPort ?? freePort();
  const config = await writeFile(
    `${dir}/${id}.toml`,
    `[log]\nlevel = "info"\n` +
      `[controller]\nlisten = "127.0.0.1:${protocol}"\n` +
      `[http]\nlisten = "127.0.0.1:${http}"\n` +
      `[database]\npersistence = "postgres"\npostgres_url = "${url}"\n` +
      `[execution]\nconcurrency = 64\n` +
      `[cluster]\nnode_id = "${id}"\n` +
      (lease === undefined ? "" : `lease = "${lease}"\n`) + extra,
  );
  const process = await DaemonProcess.start(config, {
    ready: /HTTP listening on \S+:(\d+)\n/,
  });
  return { id, port: protocol, httpPort: http, process };
}

/** `GET /health/leader` of a node: its status, or 0 when unreachable. */
export async function healthLeader(node: Node): Promise<number> {
  try {
    const response = await fetch(
      `http://127.0.0.1:${node.httpPort}/health/leader`,
      { signal: AbortSignal.timeout(500) },
    );
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

/** Waits for the node that leads and accepts protocol connections. */
export async function waitForLeader(
  nodes: readonly Node[],
  timeoutMs = 20_000,
): Promise<Node> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const node of nodes) {
      if (await healthLeader(node) !== 200) continue;
      try {
        (await TestClient.connect(node.port))[Symbol.dispose]();
        return node;
      } catch { /* not listening yet */ }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("no node leads");
}
