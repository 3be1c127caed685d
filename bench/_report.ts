/**
 * Machine facts and the Markdown report of a run.
 *
 * @module
 */
import { capture, readProc } from "./_procs.ts";
import type { Figure, Results, TargetResult } from "./_results.ts";
import { SHAPES } from "./_throughput.ts";

/** Facts about the machine and the tools, for the report. */
export interface MachineFacts {
  readonly date: string;
  readonly cores: number;
  readonly cpuModel: string;
  readonly memory: string;
  readonly kernel: string;
  readonly disk: string;
  readonly deno: string;
  readonly redis: string;
  readonly beanstalkd: string;
  readonly gcc: string;
}

/** Reads the machine facts; `dir` is where the logfiles live. */
export async function machineFacts(dir: string): Promise<MachineFacts> {
  const cpuinfo = await readProc("/proc/cpuinfo");
  const meminfo = await readProc("/proc/meminfo");
  const memKb = Number(meminfo.match(/^MemTotal:\s+(\d+)/m)?.[1] ?? NaN);
  const df = await capture("df", [
    "-h",
    "--output=source,fstype,size,avail",
    dir,
  ]);
  const dfRow = df?.split("\n")[1]?.trim().split(/\s+/) ?? [];
  const device = dfRow[0]?.replace("/dev/", "") ?? "";
  const lsblk = device
    ? await capture("lsblk", ["-dno", "NAME,SIZE,ROTA,MODEL", `/dev/${device}`])
    : undefined;
  return {
    date: new Date().toISOString(),
    cores: navigator.hardwareConcurrency,
    cpuModel: cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1]?.trim() ?? "?",
    memory: Number.isFinite(memKb)
      ? `${(memKb / 1024 / 1024).toFixed(1)} GiB`
      : "?",
    kernel: Deno.osRelease(),
    disk: `${dir} on ${dfRow.join(" ")}${
      lsblk
        ? ` (lsblk NAME SIZE ROTA MODEL: ${lsblk.replace(/\s+/g, " ")})`
        : ""
    }`,
    deno: `${Deno.version.deno} (V8 ${Deno.version.v8})`,
    redis:
      (await capture("redis-server", ["--version"]))?.split(" ").slice(0, 3)
        .join(" ") ??
        "not found",
    beanstalkd: (await capture("beanstalkd", ["-v"])) ?? "not found",
    gcc: (await capture("gcc", ["--version"]))?.split("\n")[0] ?? "not found",
  };
}

function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–";
}

function num(n: number, unit: string): string {
  if (!Number.isFinite(n)) return "–";
  if (
    unit === "req/s" || unit === "jobs/s" || unit === "ops/s" || unit === "GETs"
  ) {
    return int(n);
  }
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function cell(figure: Figure | undefined): string {
  if (!figure || !Number.isFinite(figure.median)) return "–";
  const { median, min, max, unit } = figure;
  return figure.samples.length > 1
    ? `${num(median, unit)} (${num(min, unit)}–${num(max, unit)})`
    : num(median, unit);
}

/** Rows of the throughput matrix: figure id prefix and label. */
export interface MatrixRow {
  readonly id: string;
  readonly label: string;
}

/** Share of the generator's ceiling above which a figure may be its limit. */
const NEAR_CEILING = 0.85;

function matrix(
  results: Results,
  rows: readonly MatrixRow[],
  ceilingId?: string,
): string[] {
  const head = ["Server"];
  for (const shape of SHAPES) {
    head.push(`${shape.label} req/s`);
    if (shape.key !== "pipe") head.push("p50 µs", "p99 µs");
  }
  const out = [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
  ];
  for (const row of rows) {
    if (!results.get(`${row.id}.pipe.rps`)) continue;
    const cells = [row.label];
    for (const shape of SHAPES) {
      const rps = results.get(`${row.id}.${shape.key}.rps`);
      const ceiling = ceilingId === undefined
        ? NaN
        : results.median(`${ceilingId}.${shape.key}.rps`);
      const near = rps !== undefined && rps.median >= NEAR_CEILING * ceiling;
      cells.push(`${cell(rps)}${near ? " †" : ""}`);
      if (shape.key !== "pipe") {
        cells.push(cell(results.get(`${row.id}.${shape.key}.p50_us`)));
        cells.push(cell(results.get(`${row.id}.${shape.key}.p99_us`)));
      }
    }
    out.push(`| ${cells.join(" | ")} |`);
  }
  return out;
}

/** The whole report as Markdown. */
export function markdown(
  results: Results,
  targets: readonly TargetResult[],
  facts: MachineFacts,
  options: {
    reps: number;
    durationMs: number;
    ceilingRows: MatrixRow[];
    setRows: MatrixRow[];
  },
): string {
  const lines: string[] = [];
  lines.push(
    `Run of ${facts.date}: ${facts.cores} cores, ${facts.cpuModel}, ${facts.memory} RAM, Linux ${facts.kernel}; disk ${facts.disk}; Deno ${facts.deno}; ${facts.redis}; ${facts.beanstalkd}; ${facts.gcc}.`,
    `Each cell: median (min–max) of ${options.reps} runs of ${options.durationMs} ms; latencies are per-request round trips seen by the load generator.`,
    "",
  );
  if (options.ceilingRows.some((r) => results.get(`${r.id}.pipe.rps`))) {
    lines.push(
      "#### Load generator ceiling (same requests, server answers `OK\\n` per line)",
      "",
    );
    lines.push(...matrix(results, options.ceilingRows), "");
  }
  if (options.setRows.some((r) => results.get(`${r.id}.pipe.rps`))) {
    lines.push("#### SET throughput, side by side", "");
    const ceilingId = options.ceilingRows.find((r) =>
      results.get(`${r.id}.pipe.rps`)
    )?.id;
    lines.push(...matrix(results, options.setRows, ceilingId), "");
    if (ceilingId !== undefined) {
      lines.push(
        `† at or above ${
          NEAR_CEILING * 100
        }% of the load generator's ceiling against the ${
          ceilingId === "echo_c" ? "C" : "Deno"
        } echo server in the same shape: the generator, not the server, may be the limit.`,
        "",
      );
    }
  }
  const matrixIds = new Set(
    [...options.ceilingRows, ...options.setRows].flatMap((r) =>
      SHAPES.flatMap((
        s,
      ) => [
        `${r.id}.${s.key}.rps`,
        `${r.id}.${s.key}.p50_us`,
        `${r.id}.${s.key}.p99_us`,
      ])
    ),
  );
  const others = [...results.figures.values()].filter((f) =>
    !matrixIds.has(f.id)
  );
  if (others.length > 0) {
    lines.push(
      "#### Other figures",
      "",
      "| Figure | Median | Min–max | Unit |",
      "|---|---|---|---|",
    );
    for (const f of others) {
      const range = f.samples.length > 1
        ? `${num(f.min, f.unit)}–${num(f.max, f.unit)}`
        : "(1 run)";
      lines.push(
        `| ${f.label}${f.note ? ` (${f.note})` : ""} | ${
          num(f.median, f.unit)
        } | ${range} | ${f.unit} |`,
      );
    }
    lines.push("");
  }
  if (targets.length > 0) {
    lines.push(
      "#### Targets",
      "",
      "| Target | Measured | Required | Target: met/missed |",
      "|---|---|---|---|",
    );
    for (const t of targets) {
      lines.push(
        `| ${t.label} | ${num(t.measured, t.unit)} ${t.unit} | ${t.op} ${
          num(t.required, t.unit)
        } ${t.unit} | ${t.status} |`,
      );
    }
    lines.push("");
  }
  if (results.notes.length > 0) {
    lines.push("Notes:", ...results.notes.map((n) => `- ${n}`), "");
  }
  return lines.join("\n");
}
