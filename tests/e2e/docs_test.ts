/**
 * Every runnable example of the manual (docs/*.md) runs against real
 * daemons on free ports, with the real `ztick` executable, socat, curl and
 * python3; the conventions are in tests/_helpers/docs_examples.ts. Each
 * page gets its own daemons and working directory, its blocks run in page
 * order, and its setup below says which daemons it talks to.
 */
import assert from "node:assert/strict";
import { parseAuthFile } from "../../src/config/auth_file.ts";
import { parseConfig } from "../../src/config/config.ts";
import { Daemon } from "../../src/daemon.ts";
import type { Clock } from "../../src/scheduler/ports.ts";
import { brokerGate } from "../_helpers/brokers.ts";
import { testConfig, type TestDaemonOptions } from "../_helpers/daemon.ts";
import { ManualClock } from "../_helpers/doubles.ts";
import {
  anchors,
  checkExample,
  type Example,
  extractExamples,
  makeSandbox,
  relativeLinks,
} from "../_helpers/docs_examples.ts";
import { PAGES, type PageSetup } from "./_docs_pages.ts";

const DOCS = new URL("../../docs/", import.meta.url).pathname;
/** 2026-01-01 UTC: the manual's dates in 2026 are still ahead. */
const BEFORE_EXAMPLES = 1_767_225_600_000_000_000n;

async function has(program: string): Promise<boolean> {
  const { code } = await new Deno.Command("sh", {
    args: ["-c", `command -v ${program}`],
    stdout: "null",
  }).output();
  return code === 0;
}

const TOOLS: Record<string, RegExp> = {
  socat: /\bsocat\b/,
  curl: /\bcurl\b/,
  python3: /\bpython3\b/,
  openssl: /\bopenssl\b/,
};

/** Starts one daemon of a page in `dir` (its logfile is `dir/ztick.log`). */
async function startDocDaemon(
  dir: string,
  options: TestDaemonOptions,
  clock: Clock | undefined,
): Promise<Daemon> {
  const config = testConfig(dir, options);
  return await Daemon.start(
    {
      ...config,
      database: { ...config.database, logfilePath: `${dir}/ztick.log` },
    },
    clock ? { clock } : {},
  );
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Stops a daemon a page's example started, if it still runs. */
async function killStarted(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await Deno.readTextFile(pidFile)).trim());
  } catch {
    return;
  }
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    return; // already stopped by the page
  }
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    try {
      Deno.kill(pid, "SIGCONT"); // still there?
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function runPage(
  t: Deno.TestContext,
  name: string,
  setup: PageSetup,
  examples: Example[],
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "ztick-docs-" });
  const daemons: Daemon[] = [];
  try {
    const ports = new Map<number, number>();
    const sandbox = await makeSandbox(ports, `${root}/work`);
    const clock = setup.clock === "manual"
      ? new ManualClock(BEFORE_EXAMPLES)
      : undefined;
    for (const [index, spec] of (setup.daemons ?? []).entries()) {
      // The first daemon's logfile is ztick.log of the working directory.
      const dir = index === 0 ? sandbox.dir : `${root}/daemon-${spec.port}`;
      await Deno.mkdir(dir, { recursive: true });
      const options = await spec.options(sandbox.dir);
      const daemon = await startDocDaemon(dir, options, clock);
      daemons.push(daemon);
      ports.set(spec.port, daemon.addr.port);
      if (spec.httpPort !== undefined) {
        ports.set(spec.httpPort, daemon.httpAddr!.port);
      }
    }
    for (const port of setup.freePorts ?? []) ports.set(port, freePort());
    await setup.prepare?.(sandbox.dir, daemons);
    for (const example of examples) {
      const ok = await t.step(`${name}:${example.line}`, async () => {
        await checkExample(sandbox, example);
      });
      if (!ok) break; // later blocks build on this one
    }
  } finally {
    await killStarted(`${root}/work/ztick.pid`);
    for (const daemon of daemons) await daemon.stop();
    await Deno.remove(root, { recursive: true });
  }
}

const pages = [...Deno.readDirSync(DOCS)]
  .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
  .map((entry) => entry.name)
  .sort();
let total = 0;

Deno.test("docs: every page of docs/ has a setup here, and every setup a page", () => {
  assert.deepEqual(pages, Object.keys(PAGES).sort());
});

Deno.test("docs: every link between the pages, and from README.md, resolves", () => {
  const broken: string[] = [];
  const sources: [string, string][] = [
    ...pages.map((name): [string, string] => [name, `${DOCS}${name}`]),
    ["../README.md", `${DOCS}../README.md`],
  ];
  for (const [name, path] of sources) {
    const text = Deno.readTextFileSync(path);
    for (const { target, anchor } of relativeLinks(text)) {
      const page = target === "" ? name : target.replace(/^docs\//, "");
      if (!page.endsWith(".md") || page.startsWith("../")) continue;
      if (!pages.includes(page)) {
        broken.push(`${name}: ${target}`);
      } else if (
        anchor !== undefined &&
        !anchors(Deno.readTextFileSync(`${DOCS}${page}`)).has(anchor)
      ) broken.push(`${name}: ${target}#${anchor}`);
    }
  }
  assert.deepEqual(broken, []);
});

for (const name of pages) {
  const setup = PAGES[name];
  if (setup === undefined) continue; // reported by the test above
  const text = Deno.readTextFileSync(`${DOCS}${name}`);
  const { examples, toml } = extractExamples(`docs/${name}`, text);
  total += examples.length;
  if (toml.length > 0) {
    Deno.test(`docs/${name}: ${toml.length} TOML blocks are valid files`, () => {
      for (const block of toml) {
        const where = `docs/${name}:${block.line}`;
        if (block.text.includes("[token.")) parseAuthFile(block.text);
        else parseConfig(block.text, where);
      }
    });
  }
  const missing: string[] = [];
  for (const [tool, used] of Object.entries(TOOLS)) {
    if (examples.some((e) => used.test(e.code)) && !(await has(tool))) {
      missing.push(tool);
    }
  }
  const gate = brokerGate(
    `${missing.join(", ")} on PATH`,
    missing.length === 0,
  );
  Deno.test({
    name: `docs/${name}: ${examples.length} examples${gate.suffix}`,
    ignore: gate.ignore,
    async fn(t) {
      assert.ok(
        examples.length >= setup.minExamples,
        `docs/${name} has ${examples.length} runnable examples, expected at least ${setup.minExamples}`,
      );
      await runPage(t, `docs/${name}`, setup, examples);
    },
  });
}

Deno.test(`docs: ${total} runnable examples in ${pages.length} pages`, () => {
  assert.ok(total > 0);
});
