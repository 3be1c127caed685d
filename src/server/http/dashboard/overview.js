// Overview: GET /stats (cards, two charts, lag) and the upcoming jobs.
import { api, query } from "./api.js";
import { barChart, COLORS } from "./charts.js";
import { fill, h } from "./dom.js";
import { formatDuration, formatMs, nsToMs } from "./format.js";
import { jobsTable } from "./jobs_table.js";

const FRONT_LIMIT = 100; // planned jobs read for the front table (one page)
const FRONT_ROWS = 15; // rows shown

function card(key, value) {
  const shown = key === "uptime_ns"
    ? [formatDuration(value), h("small", { class: "mono" }, `${value} ns`)]
    : String(value);
  // <wbr> after each "_" lets long keys wrap at word boundaries.
  const label = key.split("_").flatMap((
    part,
    i,
  ) => (i ? ["_", h("wbr"), part] : [part]));
  return h(
    "div",
    { class: "card" },
    h("dt", null, label),
    h("dd", null, shown),
  );
}

function sum(values) {
  return values.reduce((total, v) => total + Number(v), 0);
}

/**
 * The front table: running jobs, then planned jobs soonest first. GET /jobs
 * pages by id, not by time, so the soonest are exact only when every planned
 * job fits in one page; otherwise the caption says it is a sample.
 */
function upcoming(triggered, planned) {
  const soonest = [...planned].sort((
    a,
    b,
  ) => (a.execution < b.execution ? -1 : a.execution > b.execution ? 1 : 0));
  const jobs = [...triggered, ...soonest].slice(0, FRONT_ROWS);
  const complete = planned.length < FRONT_LIMIT;
  const caption = complete
    ? `Running, then planned jobs, soonest first (${jobs.length} of ${
      triggered.length + planned.length
    })`
    : `Running jobs, then the soonest of the first ${FRONT_LIMIT} planned jobs by id`;
  return { jobs, caption };
}

function lagText(lag) {
  if (lag.count === 0 || lag.p50 === null) return "no executions";
  const runs = `${lag.count} execution${lag.count === 1 ? "" : "s"}`;
  return `p50 ${formatMs(lag.p50)} · p99 ${formatMs(lag.p99)} · ${runs}`;
}

const EXECUTIONS_CHART = {
  series: [
    { label: "executed", color: COLORS.executed },
    { label: "failed", color: COLORS.failed },
  ],
  stepSeconds: 60,
  stacked: true,
};
const UPCOMING_CHART = {
  series: [{ label: "planned", color: COLORS.planned }],
  stepSeconds: 3600,
};

/** The STAT cards, the two charts and the lag line, hidden until drawn. */
function figures() {
  const cards = h("dl", { class: "cards" });
  const lag = h("p", { class: "lag", "aria-live": "off" });
  const execCaption = h("figcaption");
  const upCaption = h("figcaption");
  const execBox = h("div", { class: "chart" });
  const upBox = h("div", { class: "chart" });
  const el = h(
    "div",
    { hidden: true },
    cards,
    h(
      "div",
      { class: "charts" },
      h("figure", null, execCaption, execBox),
      h("figure", null, upCaption, upBox),
    ),
    lag,
  );
  const execChart = barChart(execBox, EXECUTIONS_CHART);
  const upChart = barChart(upBox, UPCOMING_CHART);

  function render(stats) {
    el.hidden = false;
    fill(cards, Object.entries(stats.stat).map(([k, v]) => card(k, v)));
    const epm = stats.executions_per_minute;
    fill(
      execCaption,
      `Executions per minute, last hour: ${sum(epm.executed)} executed, ${
        sum(epm.failed)
      } failed`,
    );
    execChart.update(nsToMs(epm.start) / 1000, [epm.executed, epm.failed]);
    const uph = stats.upcoming_per_hour;
    fill(
      upCaption,
      `Upcoming jobs per hour, next 24 h: ${sum(uph.planned)} planned`,
    );
    upChart.update(nsToMs(uph.start) / 1000, [uph.planned]);
    fill(
      lag,
      h("strong", null, "Schedule lag, last 10 min: "),
      lagText(stats.lag_ms),
    );
  }
  function destroy() {
    execChart.destroy();
    upChart.destroy();
  }
  return { el, render, destroy };
}

export function mount(main, _params, app) {
  const front = h("div");
  const loading = h(
    "p",
    { class: "muted" },
    "Waiting for the daemon's figures…",
  );
  const shown = figures();
  fill(
    main,
    h("h2", null, "Overview"),
    loading,
    shown.el,
    h(
      "section",
      { "aria-labelledby": "front-title" },
      h("h2", { id: "front-title" }, "Upcoming jobs"),
      front,
      h(
        "p",
        null,
        h("a", { href: "#/jobs?status=planned" }, "All planned jobs →"),
      ),
    ),
  );
  let lastStats = "";
  let lastJobs = "";

  async function refresh() {
    const [stats, triggered, planned] = await Promise.all([
      api("stats"),
      api(query("jobs", { status: "triggered", limit: FRONT_ROWS })),
      api(query("jobs", { status: "planned", limit: FRONT_LIMIT })),
    ]);
    if (stats.text !== lastStats) {
      loading.remove();
      shown.render(stats.data);
      lastStats = stats.text;
    }
    const jobsText = triggered.text + planned.text;
    if (jobsText === lastJobs) return;
    const { jobs, caption } = upcoming(triggered.data, planned.data);
    fill(
      front,
      jobsTable(caption, jobs, {
        empty: "No planned jobs",
        onRemoved: () => app.refreshNow(),
        onError: (e) => app.notify(e),
      }),
    );
    lastJobs = jobsText;
  }

  return { title: "Overview", refresh, unmount: shown.destroy };
}
