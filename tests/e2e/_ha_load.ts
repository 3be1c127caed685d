/**
 * A SET load on whichever node leads: 20 connections, each setting its own
 * keys in turn; every acknowledged value and the time of each answer kept.
 */
import { TestClient } from "../_helpers/client.ts";
import { type Node, waitForLeader } from "./_cluster.ts";

/** Keys per connection. */
const KEYS = 10;
/** Far in the future: the load's jobs never fire. */
const FUTURE_NS = 4_000_000_000_000_000_000n;

/** What the load saw. */
export class SetLoad {
  /** Last acknowledged execution per key. */
  readonly acked = new Map<string, bigint>();
  /** A SET sent and not answered, per key (it may or may not be applied). */
  readonly unanswered = new Map<string, bigint>();
  /** Wall-clock ms sent and answered, and port, of every acknowledgement. */
  readonly answers: { sentMs: number; ms: number; port: number }[] = [];
  #running = true;
  readonly #workers: Promise<void>[];

  constructor(nodes: () => readonly Node[], connections = 20) {
    this.#workers = Array.from(
      { length: connections },
      (_, c) => this.#work(nodes, c),
    );
  }

  /** The first acknowledgement after `ms` from a port other than `port`. */
  firstAnswerAfter(ms: number, port: number): number | undefined {
    return this.answers.find((a) => a.ms > ms && a.port !== port)?.ms;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#workers);
  }

  async #work(nodes: () => readonly Node[], c: number): Promise<void> {
    let n = 0;
    while (this.#running) {
      let client: TestClient | undefined;
      let port = 0;
      try {
        const leader = await waitForLeader(nodes(), 30_000);
        port = leader.port;
        client = await TestClient.connect(port);
        while (this.#running) {
          const key = `load.c${c}.k${n % KEYS}`;
          const value = FUTURE_NS + BigInt(n++);
          this.unanswered.set(key, value);
          const sentMs = Date.now();
          const answer = await client.request(`s SET ${key} ${value}`);
          this.unanswered.delete(key);
          if (answer !== "s OK") break;
          this.acked.set(key, value);
          this.answers.push({ sentMs, ms: Date.now(), port });
        }
      } catch { /* the node went away: find the leader again */ }
      client?.[Symbol.dispose]();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** Checks every acknowledged SET on the leader: its last value (or a later, unanswered one). */
export async function missingSets(
  load: SetLoad,
  port: number,
): Promise<string[]> {
  using client = await TestClient.connect(port);
  const wrong: string[] = [];
  for (const [key, value] of load.acked) {
    const answer = await client.request(`g GET ${key}`);
    const found = /^g OK \S+ (\d+)$/.exec(answer)?.[1];
    const later = load.unanswered.get(key);
    if (found !== `${value}` && (later === undefined || found !== `${later}`)) {
      wrong.push(`${key}: acked ${value}, found ${answer}`);
    }
  }
  return wrong;
}
