/**
 * Runs the examples of the manual (`docs/*.md`) as a user would paste them.
 *
 * Conventions of the fenced blocks in docs/:
 *
 * - ` ```sh ` blocks are run, in page order, by `bash` in one working
 *   directory per page (so a file one block writes is there for the next),
 *   with stdout and stderr merged as a terminal shows them. The block must
 *   exit 0: an example that shows a failure ends with `; echo "exit $?"`.
 * - ` ```python ` blocks are run by `python3` the same way.
 * - An ` ```output ` block right after one of those (only blank lines in
 *   between) is what it must print. In it, `...` inside a line stands for
 *   any text on that line, and a line that is exactly `...` for any number
 *   of lines (none included). Trailing blank lines are not compared, and
 *   CR LF counts as LF (HTTP headers), as a terminal shows it.
 *   Without an output block only the exit status is checked.
 * - ` ```sh norun ` blocks are shown but not run (starting the daemon in
 *   the foreground, systemctl, installing): keep them few.
 * - Every other block (` ```text `, ` ```toml `, ` ```json `, …) is an
 *   illustration and is not run.
 *
 * What is substituted before a block runs, so that it stays a literal
 * command: `localhost:<port>` and `127.0.0.1:<port>` (and Python's
 * `("localhost", <port>)`) of a port the page's
 * setup names (5678 for the protocol, 5680 for HTTP, …) become the test
 * daemon's real address; `ztick` is a program on PATH that runs this
 * checkout's main.ts with the client's permissions for the client commands
 * and the daemon's otherwise; `/etc/ztick/` and `/var/lib/ztick/` are
 * directories of the page's working directory. The environment has
 * `TZ=UTC`, and `ZTICK_ADDR` names the 5678 daemon so that the client's
 * default address reaches it. The same substitution applies to the
 * expected output. `DOCS_SHOW=1` prints what each example printed.
 */
import { DAEMON_PERMISSIONS } from "./subprocess.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const CLIENT_COMMANDS = "set|cron|get|query|rm|history|rule|stat";
/** The client's permissions, as README "Deno permissions" lists them. */
export const CLIENT_PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-env=ZTICK_ADDR,ZTICK_TOKEN,ZTICK_TOKEN_FILE,TZ",
];

/** The blocks a page may have: anything else is a typo that hides a test. */
const KNOWN = new Set([
  "sh",
  "sh norun",
  "python",
  "output",
  "text",
  "toml",
  "json",
  "yaml",
]);

/** One runnable example of a page. */
export interface Example {
  readonly page: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly language: "sh" | "python";
  readonly code: string;
  /** The output block that follows it, if any. */
  readonly expected?: string;
}

/** What a page holds: its runnable examples and how many were skipped. */
export interface PageExamples {
  readonly examples: Example[];
  readonly norun: number;
  /** Its ` ```toml ` blocks: configuration or auth files, each checked. */
  readonly toml: { readonly line: number; readonly text: string }[];
}

/** Extracts the fenced examples of one page (conventions above). */
export function extractExamples(page: string, text: string): PageExamples {
  const lines = text.split("\n");
  const blocks: { info: string; line: number; body: string; end: number }[] =
    [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]!.match(/^```(.*)$/);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`${page}:${start + 1}: open fence`);
    blocks.push({
      info: open[1]!.trim(),
      line: start + 1,
      body: body.join("\n") + "\n",
      end: i,
    });
  }
  const examples: Example[] = [];
  const toml: { line: number; text: string }[] = [];
  let norun = 0;
  blocks.forEach((block, index) => {
    if (!KNOWN.has(block.info)) {
      throw new Error(`${page}:${block.line}: unknown block "${block.info}"`);
    }
    const before = blocks[index - 1];
    if (
      block.info === "output" &&
      !examples.some((e) => e.line === before?.line && e.expected)
    ) {
      throw new Error(`${page}:${block.line}: output block after no example`);
    }
    if (block.info === "sh norun") norun++;
    if (block.info === "toml") {
      toml.push({ line: block.line, text: block.body });
    }
    if (block.info !== "sh" && block.info !== "python") return;
    const next = blocks[index + 1];
    const adjacent = next !== undefined && next.info === "output" &&
      lines.slice(block.end + 1, next.line - 1).every((l) => l.trim() === "");
    examples.push({
      page,
      line: block.line,
      language: block.info,
      code: block.body,
      ...(adjacent ? { expected: next.body } : {}),
    });
  });
  return { examples, norun, toml };
}

/** Does `actual` match the expected block (`...` wildcards)? */
export function outputMatches(expected: string, actual: string): boolean {
  const trim = (s: string) => s.replace(/\s+$/, "");
  const parts = trim(expected).split("\n").map((line) =>
    line === "..."
      ? "(?:[^\\n]*\\n)*?"
      : line.split("...").map(escapeRegExp).join("[^\\n]*?") + "\\n"
  );
  const shown = trim(actual.replaceAll("\r\n", "\n"));
  return new RegExp(`^${parts.join("")}$`).test(shown + "\n");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Where a page's examples run. */
export interface Sandbox {
  readonly dir: string;
  /** Documented port → the test daemon's port. */
  readonly ports: ReadonlyMap<number, number>;
}

/** Applies the substitutions of the module comment to a text. */
export function substitute(sandbox: Sandbox, text: string): string {
  return text
    .replace(/\b(?:localhost|127\.0\.0\.1):(\d{2,5})\b/g, (whole, port) => {
      const actual = sandbox.ports.get(Number(port));
      return actual === undefined ? whole : `127.0.0.1:${actual}`;
    })
    .replace(/"(?:localhost|127\.0\.0\.1)", (\d{2,5})\b/g, (whole, port) => {
      const actual = sandbox.ports.get(Number(port));
      return actual === undefined ? whole : `"127.0.0.1", ${actual}`;
    })
    .replaceAll("/etc/ztick/", `${sandbox.dir}/etc/ztick/`)
    .replaceAll("/var/lib/ztick/", `${sandbox.dir}/var/lib/ztick/`);
}

/** Creates the page's directory with `ztick` on its PATH. */
export async function makeSandbox(
  ports: ReadonlyMap<number, number>,
  dir: string,
): Promise<Sandbox> {
  await Deno.mkdir(`${dir}/bin`, { recursive: true });
  await Deno.mkdir(`${dir}/etc/ztick`, { recursive: true });
  await Deno.mkdir(`${dir}/var/lib/ztick`, { recursive: true });
  const deno = `${Deno.execPath()} run -q --config ${CONFIG}`;
  await Deno.writeTextFile(
    `${dir}/bin/ztick`,
    `#!/bin/sh
case "$1" in
  ${CLIENT_COMMANDS}) exec ${deno} ${
      CLIENT_PERMISSIONS.join(" ")
    } ${MAIN} "$@" ;;
esac
exec ${deno} ${DAEMON_PERMISSIONS.join(" ")} ${MAIN} "$@"
`,
    { mode: 0o755 },
  );
  return { dir, ports };
}

/** The merged output and exit status of one example. */
export interface Ran {
  readonly code: number;
  readonly output: string;
}

/** Runs one example in the sandbox. */
export async function runExample(
  sandbox: Sandbox,
  example: Example,
): Promise<Ran> {
  const code = substitute(sandbox, example.code);
  const program = example.language === "sh"
    ? ["bash", "-c", `exec 2>&1\n${code}`]
    : ["bash", "-c", 'exec 2>&1; exec python3 -c "$0"', code];
  const protocol = sandbox.ports.get(5678);
  const output = await new Deno.Command(program[0]!, {
    args: program.slice(1),
    cwd: sandbox.dir,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    env: {
      PATH: `${sandbox.dir}/bin:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      TZ: "UTC",
      NO_COLOR: "1",
      ...(protocol === undefined
        ? {}
        : { ZTICK_ADDR: `127.0.0.1:${protocol}` }),
    },
    signal: AbortSignal.timeout(60_000),
  }).output();
  return {
    code: output.code,
    output: new TextDecoder().decode(output.stdout),
  };
}

/** Runs an example and throws a readable error unless it is as documented. */
export async function checkExample(
  sandbox: Sandbox,
  example: Example,
): Promise<void> {
  const ran = await runExample(sandbox, example);
  const where = `${example.page}:${example.line}`;
  if (Deno.env.get("DOCS_SHOW") === "1") {
    // Writing the docs: see what an example prints.
    await Deno.stderr.write(
      new TextEncoder().encode(`${where}\n${ran.output}`),
    );
  }
  const expected = example.expected === undefined
    ? undefined
    : substitute(sandbox, example.expected);
  if (ran.code !== 0 || (expected && !outputMatches(expected, ran.output))) {
    throw new Error(
      `${where}: exit ${ran.code}\n--- code\n${example.code}--- expected\n${
        expected ?? "(exit 0)\n"
      }--- actual\n${ran.output}`,
    );
  }
}

/** GitHub's anchor of a heading: `STAT: the daemon's figures` → `stat-the-daemons-figures`. */
export function headingAnchor(heading: string): string {
  return heading.toLowerCase().replace(/[^a-z0-9 _-]/g, "").replaceAll(
    " ",
    "-",
  );
}

/** The anchors of a page's headings (outside fenced blocks). */
export function anchors(text: string): Set<string> {
  const found = new Set<string>();
  let fenced = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = !fenced && line.match(/^#{1,6} (.+)$/);
    if (heading) found.add(headingAnchor(heading[1]!));
  }
  return found;
}

/** The relative links of a page: `[text](target.md#anchor)` → target, anchor. */
export function relativeLinks(
  text: string,
): { target: string; anchor?: string }[] {
  const links: { target: string; anchor?: string }[] = [];
  for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const link = match[1]!;
    if (/^[a-z]+:/.test(link)) continue; // http:, mailto:
    const [target, anchor] = link.split("#");
    links.push({ target: target!, ...(anchor ? { anchor } : {}) });
  }
  return links;
}
