// The jobs table shared by the overview and the Jobs view.
import { api, itemPath } from "./api.js";
import { confirmAction, h, jobLink, statusBadge, table } from "./dom.js";
import { formatLocal, formatUtc, isoDatetime } from "./format.js";

export const JOB_HEADERS = [
  "Job",
  "Status",
  "Next execution (local)",
  "UTC",
  "Attempt",
  "Schedule",
  "",
];

/** The schedule cell: "cron · tz · catchup" for a recurring job, else "one-shot". */
export function scheduleCell(job) {
  if (job.cron === undefined) return h("span", { class: "muted" }, "one-shot");
  return h(
    "span",
    null,
    h("code", null, job.cron),
    h(
      "span",
      { class: "muted" },
      ` ${job.tz ?? "UTC"} · catchup ${job.catchup ?? "once"}`,
    ),
  );
}

/** Asks, then removes a job; resolves true when it was removed. */
export async function removeJob(id, onError) {
  if (
    !(await confirmAction([
      "Remove job ",
      h("strong", { class: "id" }, id),
      " and its history?",
    ]))
  ) {
    return false;
  }
  try {
    await api(itemPath("jobs", id), { method: "DELETE" });
    return true;
  } catch (error) {
    onError(error);
    return false;
  }
}

/** One table row per job, with a Remove button. */
export function jobsTable(caption, jobs, { onRemoved, onError, empty }) {
  const rows = jobs.map((job) =>
    h(
      "tr",
      null,
      h("th", { scope: "row" }, jobLink(job.id)),
      h("td", null, statusBadge(job.status)),
      h(
        "td",
        null,
        h(
          "time",
          { datetime: isoDatetime(job.execution) },
          formatLocal(job.execution),
        ),
      ),
      h(
        "td",
        { class: "mono", title: `${job.execution} ns` },
        formatUtc(job.execution),
      ),
      h("td", { class: "num" }, String(job.attempt ?? 1)),
      h("td", null, scheduleCell(job)),
      h(
        "td",
        { class: "actions" },
        h("button", {
          type: "button",
          class: "small danger",
          "aria-label": `Remove job ${job.id}`,
          onclick: async () => {
            if (await removeJob(job.id, onError)) onRemoved(job.id);
          },
        }, "Remove"),
      ),
    )
  );
  return table(caption, JOB_HEADERS, rows, empty);
}
