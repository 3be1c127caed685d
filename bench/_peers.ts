/**
 * The peers measured in the same run: our own redis-server and beanstalkd
 * on free ports with temp dirs, and the two echo servers of the load
 * generator's ceiling (C, built with gcc now, and Deno).
 *
 * @module
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import { capture, freePort, Proc, tempDir, waitForTcp } from "./_procs.ts";

/** A running peer server. */
export interface Peer {
  readonly label: string;
  readonly port: number;
  readonly proc: Proc;
  stop(): Promise<void>;
}

/** How Redis persists: nothing, AOF fsynced every second, or on every write. */
export type RedisMode = "off" | "everysec" | "always";

/** Starts `redis-server` on a free port with its own temp dir. */
export async function startRedis(mode: RedisMode): Promise<Peer> {
  const dir = await tempDir(`redis_${mode}`);
  const port = freePort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--daemonize",
    "no",
    "--logfile",
    `${dir}/redis.log`,
    "--protected-mode",
    "no",
  ];
  if (mode === "off") args.push("--appendonly", "no");
  else args.push("--appendonly", "yes", "--appendfsync", mode);
  const proc = new Proc(`redis-server (${mode})`, "redis-server", args);
  await waitForTcp(port, 10_000, proc);
  return {
    label: mode === "off"
      ? "Redis ZADD, AOF off"
      : `Redis ZADD, AOF appendfsync ${mode}`,
    port,
    proc,
    stop: async () => {
      await proc.stop();
    },
  };
}

/** beanstalkd binlog sync: default (-f 50 ms) or `-f 0` (fsync every put). */
export type BeanstalkMode = "default" | "f0";

/** Starts `beanstalkd` on a free port with its binlog in a temp dir. */
export async function startBeanstalkd(mode: BeanstalkMode): Promise<Peer> {
  const dir = await tempDir(`beanstalkd_${mode}`);
  const port = freePort();
  const args = ["-l", "127.0.0.1", "-p", String(port), "-b", dir];
  if (mode === "f0") args.push("-f", "0");
  const proc = new Proc(`beanstalkd (${mode})`, "beanstalkd", args);
  await waitForTcp(port, 10_000, proc);
  return {
    label: mode === "f0"
      ? "beanstalkd put, binlog -f 0"
      : "beanstalkd put, binlog default (-f 50)",
    port,
    proc,
    stop: async () => {
      await proc.stop();
    },
  };
}

/** Whether a program is on PATH. */
export async function hasProgram(name: string): Promise<boolean> {
  return (await capture("sh", ["-c", `command -v ${name}`])) !== undefined;
}

/**
 * Whether a program is on PATH, installing its Debian package with apt-get
 * first when it is missing (as root, when apt-get exists).
 */
export async function ensureProgram(
  name: string,
  aptPackage: string,
  log: (text: string) => void,
): Promise<boolean> {
  if (await hasProgram(name)) return true;
  if (Deno.uid() !== 0 || !await hasProgram("apt-get")) return false;
  log(`  ${name} not found: apt-get install -y ${aptPackage}`);
  const installed = await new Deno.Command("sh", {
    args: [
      "-c",
      `apt-get install -y ${aptPackage} || (apt-get update && apt-get install -y ${aptPackage})`,
    ],
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "null",
    stderr: "null",
  }).output();
  return installed.success && await hasProgram(name);
}

/**
 * Compiles `bench/<name>.c` with gcc -O2 into a temp dir; returns the
 * binary's path.
 */
export async function compileC(name: string): Promise<string> {
  const dir = await tempDir(name);
  const source = fromFileUrl(new URL(`./${name}.c`, import.meta.url));
  const binary = `${dir}/${name}`;
  const out = await new Deno.Command("gcc", {
    args: ["-O2", "-o", binary, source],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`gcc failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return binary;
}

/** Compiles bench/echo_server.c with gcc -O2 into a temp dir and starts it. */
export async function startCEcho(): Promise<Peer> {
  const binary = await compileC("echo_server");
  const proc = new Proc("C echo", binary, []);
  const line = await proc.waitForLine(/^(\d+)$/, 10_000);
  return {
    label: "C echo server (epoll)",
    port: Number(line.match[1]),
    proc,
    stop: async () => {
      await proc.stop();
    },
  };
}

/** Starts bench/echo_server.ts in its own Deno process. */
export async function startDenoEcho(): Promise<Peer> {
  const script = fromFileUrl(new URL("./echo_server.ts", import.meta.url));
  const proc = new Proc("Deno echo", Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1",
    script,
  ], { env: { RUST_BACKTRACE: "0" } });
  const line = await proc.waitForLine(/^(\d+)$/, 30_000);
  return {
    label: "Deno echo server",
    port: Number(line.match[1]),
    proc,
    stop: async () => {
      await proc.stop();
    },
  };
}
