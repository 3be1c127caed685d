/**
 * `deno task compile`: one self-contained executable, `dist/ztick`, with
 * the permissions and V8 flags of `deno task start`, read from deno.json so
 * the two never drift.
 *
 *     deno task compile [-- <more deno compile options, -o PATH included>]
 *
 * `deno compile` needs denort, the runtime it puts the code in: it
 * downloads it from dl.deno.land, or takes `DENORT_BIN`. This script checks
 * `DENORT_BIN` first — a plain `deno` there builds a 100 MB file that runs
 * as the deno CLI and prints `deno 2.9.6` — and turns a failed download
 * into one message saying what is needed, instead of a stack backtrace.
 *
 * @module
 */

import { writeAllSync } from "../src/io.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const OUTPUT = "dist/ztick";
const DECODER = new TextDecoder();

/**
 * The options of the `start` task that `deno compile` must repeat: the
 * permissions and V8 flags (everything between `deno run` and `main.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startFlags } from "./compile.ts";
 *
 * assert.deepEqual(
 *   startFlags("deno run --allow-net --v8-flags=--x=8 main.ts"),
 *   ["--allow-net", "--v8-flags=--x=8"],
 * );
 * ```
 */
export function startFlags(startTask: string): string[] {
  const words = startTask.trim().split(/\s+/);
  const main = words.indexOf("main.ts");
  if (words[0] !== "deno" || words[1] !== "run" || main === -1) {
    throw new Error(`Cannot read the start task "${startTask}"`);
  }
  return words.slice(2, main);
}

/** What is wrong with a `DENORT_BIN`, or `undefined` when it may be used. */
export async function checkDenort(path: string): Promise<string | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return `DENORT_BIN=${path} does not exist`;
  }
  if (!info.isFile || ((info.mode ?? 0o111) & 0o111) === 0) {
    return `DENORT_BIN=${path} is not an executable file`;
  }
  // A denort refuses to run without a program in it; the CLI prints its
  // version.
  let stdout = "";
  try {
    const output = await new Deno.Command(path, {
      args: ["--version"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(10_000),
    }).output();
    stdout = DECODER.decode(output.stdout);
  } catch {
    return undefined; // not even started: deno compile will say why
  }
  if (/^deno \d/.test(stdout)) {
    return `DENORT_BIN=${path} is the deno CLI (${
      stdout.split("\n")[0]
    }), not denort: the executable built with it would run as the plain deno CLI`;
  }
  return undefined;
}

/** Where a denort comes from, for the messages. */
export function denortHelp(): string {
  const version = Deno.version.deno;
  const target = Deno.build.target;
  return [
    `deno compile needs denort ${version} for ${target}, the runtime the executable is built on.`,
    `It is downloaded from https://dl.deno.land/release/v${version}/denort-${target}.zip`,
    `(also attached to the v${version} release of github.com/denoland/deno); where that is`,
    `not reachable, unzip it elsewhere and set DENORT_BIN=/path/to/denort. It must be denort,`,
    `not the deno CLI, and of the same version as this deno (${version}).`,
    `Without it, \`deno task bundle\` builds dist/ztick.js, which \`deno run\` runs anywhere.`,
  ].join("\n");
}

async function main(args: string[]): Promise<number> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const flags = startFlags(config.tasks.start);
  const denort = Deno.env.get("DENORT_BIN");
  if (denort !== undefined && denort !== "") {
    const problem = await checkDenort(denort);
    if (problem !== undefined) {
      printError(`error: ${problem}\n${denortHelp()}\n`);
      return 1;
    }
  }
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      ...flags,
      ...args,
      ...(args.some((arg) => /^(-o|--output)(=|$)/.test(arg))
        ? []
        : ["-o", OUTPUT]),
      "main.ts",
    ],
    cwd: ROOT,
    env: { RUST_BACKTRACE: "0" },
    stdin: "null",
    stdout: "inherit",
    stderr: "piped",
  }).output();
  const text = DECODER.decode(stderr);
  if (code === 0) {
    printError(text);
    return 0;
  }
  // Keep deno's own first error line and its causes, without a backtrace.
  const kept = text.split("\n").filter((line) =>
    line.trim() !== "" && !/backtrace|^\s+\d+: <unknown>/i.test(line)
  );
  const download = /dl\.deno\.land|denort/i.test(text);
  printError(`${kept.join("\n")}\n${download ? `\n${denortHelp()}\n` : ""}`);
  return 1;
}

function printError(text: string): void {
  writeAllSync(Deno.stderr, new TextEncoder().encode(text));
}

if (import.meta.main) Deno.exit(await main(Deno.args));
