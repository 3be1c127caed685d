// Recent failures: GET /executions?failed=1&limit=n, newest first.
import { api, ApiError, features, query } from "./api.js";
import { field, fill, h, table } from "./dom.js";
import { noHistory, RUN_HEADERS, runRows } from "./job.js";

/** A 404 from GET /executions: a daemon that keeps no run history. */
function notServed(error) {
  if (error instanceof ApiError && error.status === 404) return null;
  throw error;
}

export function mount(main, params, app) {
  const limit = h(
    "select",
    { name: "limit" },
    [50, 200, 1000].map((n) => h("option", { value: n }, String(n))),
  );
  limit.value = params.get("limit") ?? "50";
  limit.addEventListener("change", () => app.refreshNow());
  const list = h("div");
  const filters = h(
    "form",
    { class: "filters row" },
    field("Show the latest", limit),
  );
  fill(main, h("h2", null, "Recent failures"), filters, list);
  let lastText = "";

  async function refresh() {
    const answer = (await features()).executions
      ? await api(query("executions", { failed: 1, limit: limit.value }))
        .catch(notServed)
      : null;
    filters.hidden = answer === null;
    if (answer === null) {
      if (!list.querySelector(".no-history")) {
        fill(
          list,
          noHistory(),
          h(
            "p",
            null,
            "Jobs whose last run failed keep the status failed: ",
            h("a", { href: "#/jobs?status=failed" }, "failed jobs →"),
          ),
        );
      }
      lastText = "";
      return;
    }
    const { data, text } = answer;
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
