/**
 * Before/after in the same run: runs `deno task bench <args>` in two
 * checkouts in turn, A B A B …, one repetition each, and prints every
 * figure side by side with the ratio B/A of the medians.
 *
 *     git worktree add /tmp/before <commit>
 *     deno run -A bench/ab.ts --a /tmp/before --b . --rounds 3 -- --only set,firing
 *
 * `--b-flags "…"` adds bench options to B's runs only, so one checkout can
 * be compared with itself: `--a . --b . --b-flags --telemetry`.
 *
 * @module
 */
import { parseArgs } from "node:util";

interface Figure {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  readonly samples: readonly number[];
}

const split = Deno.args.indexOf("--");
const own = split < 0 ? Deno.args : Deno.args.slice(0, split);
const benchArgs = split < 0 ? [] : Deno.args.slice(split + 1);
const { values } = parseArgs({
  args: own,
  options: {
    a: { type: "string" },
    b: { type: "string", default: "." },
    rounds: { type: "string", default: "3" },
    "b-flags": { type: "string", default: "" },
  },
});
if (values.a === undefined) throw new Error("--a <checkout> is required");
const sides = { A: values.a, B: values.b };
const rounds = Number(values.rounds);
const bFlags = values["b-flags"].split(" ").filter((flag) => flag !== "");
const outDir = await Deno.makeTempDir({ prefix: "ztick-ab-" });
const samples = { A: new Map<string, Figure>(), B: new Map<string, Figure>() };

function log(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`${text}\n`));
}

for (let round = 1; round <= rounds; round++) {
  for (const [side, dir] of Object.entries(sides) as ["A" | "B", string][]) {
    const out = `${outDir}/${side}${round}.json`;
    log(`round ${round}/${rounds}, ${side} (${dir})`);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "bench",
        ...benchArgs,
        ...(side === "B" ? bFlags : []),
        "--reps",
        "1",
        "--out",
        out,
      ],
      cwd: dir,
      stdout: "null",
      stderr: "inherit",
    }).output();
    if (code !== 0) throw new Error(`bench in ${dir} exited ${code}`);
    const { figures } = JSON.parse(await Deno.readTextFile(out)) as {
      figures: Figure[];
    };
    for (const figure of figures) {
      const seen = samples[side].get(figure.id);
      samples[side].set(figure.id, {
        ...figure,
        samples: [...(seen?.samples ?? []), ...figure.samples],
      });
    }
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function show(values: readonly number[] | undefined): string {
  if (values === undefined || values.length === 0) return "—";
  const fmt = (n: number) =>
    n.toLocaleString("en-US", { maximumFractionDigits: 2 });
  return `${fmt(median(values))} [${fmt(Math.min(...values))}–${
    fmt(Math.max(...values))
  }]`;
}

const lines = [
  `| Figure | A: ${sides.A} | B: ${[sides.B, ...bFlags].join(" ")} | B/A |`,
  "|---|---|---|---|",
];
for (const [id, figure] of samples.B) {
  const a = samples.A.get(id)?.samples;
  const b = figure.samples;
  const ratio = a && a.length > 0 ? (median(b) / median(a)).toFixed(3) : "—";
  lines.push(
    `| ${figure.label} (${figure.unit}) | ${show(a)} | ${show(b)} | ${ratio} |`,
  );
}
// deno-lint-ignore no-console
console.log(lines.join("\n"));
await Deno.remove(outDir, { recursive: true });
