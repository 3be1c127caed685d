/**
 * Summarises V8 `.cpuprofile` files (from `deno run --cpu-prof`): top
 * functions by self time, and self time per source file.
 * `deno run --allow-read bench/profile_summary.ts <file|dir> [top]`.
 *
 * @module
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const ENCODER = new TextEncoder();
function print(text: string): void {
  Deno.stdout.writeSync(ENCODER.encode(`${text}\n`));
}

/** Self time (µs) per function key and per file of one profile. */
export function selfTimes(profile: Profile): {
  byFunction: Map<string, number>;
  byFile: Map<string, number>;
  totalUs: number;
} {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const perNode = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the next delta.
    const delta = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i]!;
    perNode.set(id, (perNode.get(id) ?? 0) + delta);
  }
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of perNode) {
    const frame = nodes.get(id)!.callFrame;
    const file = shortUrl(frame.url);
    const key = `${frame.functionName || "(anonymous)"} ${
      file ? `${file}:${frame.lineNumber + 1}` : ""
    }`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const fileKey = file || frame.functionName;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
    totalUs += us;
  }
  return { byFunction, byFile, totalUs };
}

function shortUrl(url: string): string {
  const at = url.indexOf("/main/");
  if (at >= 0) return url.slice(at + 6);
  return url.replace(/^.*node_modules\/\.deno\//, "npm:").replace(
    /^file:\/\//,
    "",
  );
}

function top(map: Map<string, number>, totalUs: number, n: number): void {
  const rows = [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  for (const [key, us] of rows) {
    print(
      `${(us / 1000).toFixed(1).padStart(9)} ms ${
        (100 * us / totalUs).toFixed(1).padStart(5)
      }%  ${key}`,
    );
  }
}

if (import.meta.main) {
  const target = Deno.args[0];
  const n = Number(Deno.args[1] ?? 25);
  if (target === undefined) {
    print("usage: profile_summary.ts <file.cpuprofile|dir> [top]");
    Deno.exit(2);
  }
  const files: string[] = [];
  if ((await Deno.stat(target)).isDirectory) {
    for await (const entry of Deno.readDir(target)) {
      if (entry.name.endsWith(".cpuprofile")) {
        files.push(`${target}/${entry.name}`);
      }
    }
  } else files.push(target);
  for (const file of files.sort()) {
    const profile = JSON.parse(await Deno.readTextFile(file)) as Profile;
    const { byFunction, byFile, totalUs } = selfTimes(profile);
    const busy = [...byFunction].filter(([k]) => k !== "(idle)")
      .reduce((a, [, us]) => a + us, 0);
    print(
      `\n== ${file}: ${(totalUs / 1000).toFixed(0)} ms sampled, ${
        (busy / 1000).toFixed(0)
      } ms not idle`,
    );
    print("-- top functions by self time:");
    top(byFunction, totalUs, n);
    print("-- self time by file:");
    top(byFile, totalUs, 15);
  }
}
