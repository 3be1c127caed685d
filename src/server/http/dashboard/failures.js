// Recent failures: GET /executions?failed=1&limit=n, newest first.
import { api, query } from "./api.js";
import { field, fill, h, table } from "./dom.js";
import { RUN_HEADERS, runRows } from "./job.js";

export function mount(main, params, app) {
  const limit = h(
    "select",
    { name: "limit" },
    [50, 200, 1000].map((n) => h("option", { value: n }, String(n))),
  );
  limit.value = params.get("limit") ?? "50";
  limit.addEventListener("change", () => app.refreshNow());
  const list = h("div");
  fill(
    main,
    h("h2", null, "Recent failures"),
    h("form", { class: "filters row" }, field("Show the latest", limit)),
    list,
  );
  let lastText = "";

  async function refresh() {
    const { data, text } = await api(
      query("executions", { failed: 1, limit: limit.value }),
    );
    if (text === lastText) return;
    lastText = text;
    // The API lists these newest first already; runRows reverses, so undo it.
    const rows = runRows([...data].reverse(), { withJob: true });
    fill(
      list,
      table(
        `${data.length} failed runs, newest first`,
        ["Job", ...RUN_HEADERS],
        rows,
        "No failed runs",
      ),
    );
  }

  return { title: "Recent failures", refresh };
}
