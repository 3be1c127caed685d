/**
 * Copies the dashboard's one third-party library, uPlot, from node_modules
 * into src/server/http/dashboard/vendor/ with its MIT license text on top. The minified IIFE build
 * is turned into an ES module by appending `export default uPlot;` (its
 * top-level `var uPlot` is then module-local), so the page needs no global
 * and no build step. `--check` fails when the vendored files are stale.
 *
 * Run: deno install && deno run --allow-read --allow-write tools/vendor_dashboard.ts [--check]
 */

const ROOT = new URL("../", import.meta.url);
// The package comes from npm (not an import of the daemon): `deno cache`
// this script once, then node_modules/uplot holds it.
const PACKAGE = new URL("node_modules/uplot/", ROOT);
const VENDOR = new URL("src/server/http/dashboard/vendor/", ROOT);

async function read(url: URL): Promise<string> {
  return await Deno.readTextFile(url);
}

function header(name: string, version: string, license: string): string {
  const body = license.trim().replaceAll("*/", "* /");
  return `/*! ${name} ${version} (npm:uplot@${version}, vendored by tools/vendor_dashboard.ts)\n\n${body}\n*/\n`;
}

async function build(): Promise<Map<string, string>> {
  const pkg = JSON.parse(await read(new URL("package.json", PACKAGE)));
  const license = await read(new URL("LICENSE", PACKAGE));
  const top = header("uPlot", pkg.version, license);
  const js = await read(new URL("dist/uPlot.iife.min.js", PACKAGE));
  const css = await read(new URL("dist/uPlot.min.css", PACKAGE));
  if (
    !js.startsWith("/*! https://github.com/leeoniya/uPlot") ||
    !js.includes("var uPlot=")
  ) {
    throw new Error(
      `Cannot vendor uPlot ${pkg.version}: unexpected shape of dist/uPlot.iife.min.js`,
    );
  }
  return new Map([
    ["uplot.js", `${top}${js.trimEnd()}\nexport default uPlot;\n`],
    ["uplot.css", `${top}${css.trim()}\n`],
  ]);
}

const files = await build();
const check = Deno.args.includes("--check");
let stale = 0;
for (const [name, text] of files) {
  const target = new URL(name, VENDOR);
  if (check) {
    const current = await Deno.readTextFile(target).catch(() => "");
    if (current !== text) {
      stale++;
      // deno-lint-ignore no-console
      console.error(`stale: src/server/http/dashboard/vendor/${name}`);
    }
  } else {
    await Deno.mkdir(VENDOR, { recursive: true });
    await Deno.writeTextFile(target, text);
    // deno-lint-ignore no-console
    console.log(
      `wrote src/server/http/dashboard/vendor/${name} (${
        new TextEncoder().encode(text).length
      } bytes)`,
    );
  }
}
if (stale) Deno.exit(1);
