// One job: GET /jobs/{id} and its runs, GET /executions?job={id}.
import { api, ApiError, features, itemPath, query } from "./api.js";
import { fill, h, statusBadge, table } from "./dom.js";
import { formatDuration, formatLocal, formatUtc, toBigInt } from "./format.js";
import { removeJob, scheduleCell } from "./jobs_table.js";

function item(term, ...value) {
  return h("div", null, h("dt", null, term), h("dd", null, value));
}

/** Table rows of runs, newest first (the API lists them oldest first). */
export function runRows(runs, { withJob }) {
  return [...runs].reverse().map((run) =>
    h(
      "tr",
      null,
      withJob
        ? h(
          "th",
          { scope: "row" },
          h(
            "a",
            { href: `#/job/${encodeURIComponent(run.job)}`, class: "id" },
            run.job,
          ),
        )
        : null,
      h("td", { class: "num" }, String(run.attempt)),
      h(
        "td",
        { title: `${formatUtc(run.started)} · ${run.started} ns` },
        formatLocal(run.started),
      ),
      h(
        "td",
        { class: "num", title: `ended ${run.ended} ns` },
        formatDuration(toBigInt(run.ended) - toBigInt(run.started)),
      ),
      h("td", null, statusBadge(run.outcome)),
      h(
        "td",
        { class: "id" },
        run.rule || h("span", { class: "muted" }, "none"),
      ),
      h("td", { class: "mono" }, run.detail),
      h("td", { class: "message" }, run.message),
    )
  );
}

/** What a daemon without GET /executions has instead of runs. */
const NO_HISTORY = { data: null, text: "" };

/** GET /executions answered 404 although the job exists: no history kept. */
function noRuns(error) {
  if (error instanceof ApiError && error.status === 404) return NO_HISTORY;
  throw error;
}

/** The note shown where runs would be when the daemon keeps no history. */
export function noHistory() {
  return h(
    "p",
    { class: "panel muted no-history" },
    "No history available: this daemon does not record runs yet (it does not serve GET /executions).",
  );
}

export const RUN_HEADERS = [
  "Attempt",
  "Started (local)",
  "Duration",
  "Outcome",
  "Rule",
  "Detail",
  "Message",
];

function jobFacts(job) {
  return [
    item("Status", statusBadge(job.status)),
    item("Next execution", formatLocal(job.execution)),
    item("UTC", h("span", { class: "mono" }, formatUtc(job.execution))),
    item("Nanoseconds", h("span", { class: "mono" }, String(job.execution))),
    item("Attempt", String(job.attempt ?? 1)),
    item("Schedule", scheduleCell(job)),
  ];
}

function runsTable(runs) {
  return table(
    `Runs, newest first (${runs.length} kept)`,
    RUN_HEADERS,
    runRows(runs, { withJob: false }),
    "No runs yet",
  );
}

export function mount(main, params, app) {
  const id = params.get("id");
  const facts = h("dl", { class: "facts" });
  const history = h("div");
  const removeButton = h(
    "button",
    { type: "button", class: "danger" },
    "Remove job",
  );
  removeButton.addEventListener("click", async () => {
    if (await removeJob(id, (e) => app.notify(e))) location.hash = "#/jobs";
  });
  fill(
    main,
    h("p", null, h("a", { href: "#/jobs" }, "← Jobs")),
    h("h2", null, "Job ", h("span", { class: "id" }, id)),
    facts,
    h("div", { class: "row" }, removeButton),
    h("h3", null, "History"),
    history,
  );
  let lastText = "";

  async function refresh() {
    const { executions } = await features();
    let job;
    let runs;
    try {
      [job, runs] = await Promise.all([
        api(itemPath("jobs", id)),
        executions
          ? api(query("executions", { job: id })).catch(noRuns)
          : NO_HISTORY,
      ]);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      fill(facts, item("Status", "no such job (it may have been removed)"));
      fill(history);
      removeButton.disabled = true;
      lastText = "";
      return;
    }
    if (job.text + runs.text === lastText) return;
    lastText = job.text + runs.text;
    removeButton.disabled = false;
    fill(facts, jobFacts(job.data));
    fill(history, runs.data === null ? noHistory() : runsTable(runs.data));
  }

  return { title: `Job ${id}`, refresh };
}
