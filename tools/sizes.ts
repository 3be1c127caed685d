/**
 * Prints the size figures the style asks for: every source file of `src/`
 * (and `main.ts`; the dashboard's .js and .css included, its vendored
 * libraries not) over 400 lines, and every function or method over 60
 * lines, with the largest of each. Exit code 1 when a limit is broken.
 *
 *     deno run -A tools/sizes.ts [--all]      (or: deno task sizes)
 *
 * `--all` lists every file and the 20 longest functions.
 *
 * TypeScript is pinned in dev.lock, not in deno.lock (which holds only the
 * daemon's packages, since `deno task` installs all of deno.lock): run
 * plainly, the script runs itself again with `--lock=dev.lock`.
 *
 * @module
 */
import type * as TypeScript from "npm:typescript@5.9.3";

const DEV_LOCK = new URL("../dev.lock", import.meta.url).pathname;
const RERUN = "ZTICK_SIZES_DEV_LOCK";
if (Deno.env.get(RERUN) !== "1") {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--lock=${DEV_LOCK}`,
      "-A",
      new URL(import.meta.url).pathname,
      ...Deno.args,
    ],
    env: { [RERUN]: "1" },
  }).spawn().status;
  Deno.exit(code);
}
// Not a literal: a literal would be resolved, against deno.lock, up front.
const TYPESCRIPT = ["npm:typescript", "5.9.3"].join("@");
const ts: typeof TypeScript = (await import(TYPESCRIPT)).default;

const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 60;

interface Measure {
  readonly where: string;
  readonly lines: number;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      if (entry.name !== "vendor") files.push(...await sourceFiles(path));
    } else if (/\.(ts|js|css)$/.test(entry.name) && !/_test\.ts$/.test(path)) {
      files.push(path);
    }
  }
  return files.sort();
}

function functionsOf(path: string, text: string): Measure[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: Measure[] = [];
  const visit = (node: TypeScript.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = node.name?.getText(source) ?? "(anonymous)";
      found.push({
        where: `${path}:${start + 1} ${name}`,
        lines: end - start + 1,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const all = Deno.args.includes("--all");
const files: Measure[] = [];
const functions: Measure[] = [];
for (const path of ["main.ts", ...await sourceFiles("src")]) {
  const text = await Deno.readTextFile(path);
  files.push({ where: path, lines: text.split("\n").length - 1 });
  if (!path.endsWith(".css")) functions.push(...functionsOf(path, text));
}
files.sort((a, b) => b.lines - a.lines);
functions.sort((a, b) => b.lines - a.lines);
const bigFiles = files.filter((f) => f.lines > MAX_FILE_LINES);
const longFunctions = functions.filter((f) => f.lines > MAX_FUNCTION_LINES);
const show = (m: Measure) => `  ${String(m.lines).padStart(5)}  ${m.where}`;

// deno-lint-ignore no-console
console.log(
  [
    `${files.length} files, ${functions.length} functions and methods`,
    `largest file: ${files[0]?.lines} lines (${
      files[0]?.where
    }); limit ${MAX_FILE_LINES}`,
    `longest function: ${functions[0]?.lines} lines (${
      functions[0]?.where
    }); limit ${MAX_FUNCTION_LINES}`,
    `files over ${MAX_FILE_LINES} lines: ${bigFiles.length}`,
    ...bigFiles.map(show),
    `functions over ${MAX_FUNCTION_LINES} lines: ${longFunctions.length}`,
    ...longFunctions.map(show),
    ...(all
      ? [
        "all files:",
        ...files.map(show),
        "longest functions:",
        ...functions.slice(0, 20).map(show),
      ]
      : []),
  ].join("\n"),
);
Deno.exit(bigFiles.length + longFunctions.length > 0 ? 1 : 0);
