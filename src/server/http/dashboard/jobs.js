// Jobs: filters, id-ordered paging over GET /jobs?limit=&after=, create.
import { api, itemPath, query } from "./api.js";
import { field, fill, h } from "./dom.js";
import {
  browserTimeZone,
  localInputIn,
  localInputToRfc3339,
} from "./format.js";
import { jobsTable } from "./jobs_table.js";

export const PAGE_SIZE = 50;
const STATUSES = ["planned", "triggered", "executed", "failed"];

// Cursors of the pages before the current one, per filter, for "Previous".
// GET /jobs only pages forward (after=<last id>), so the way back is remembered.
const cursors = new Map();

function jobsHash({ prefix = "", status = "", after = "" }) {
  const q = query("", { prefix, status, after });
  return `#/jobs${q}`;
}

function createForm(app, onCreated) {
  const message = h("p", { class: "form-message", role: "status" });
  const id = h("input", {
    name: "id",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
  });
  const when = h("input", {
    type: "datetime-local",
    name: "when",
    step: "1",
    value: localInputIn(10),
  });
  const preview = h("output", { class: "mono" });
  const cron = h("input", {
    name: "cron",
    placeholder: "30 2 * * *",
    autocomplete: "off",
    spellcheck: "false",
  });
  const zones = h(
    "datalist",
    { id: "tz-list" },
    ["UTC", ...Intl.supportedValuesOf("timeZone")].map((z) =>
      h("option", { value: z })
    ),
  );
  const tz = h("input", {
    name: "tz",
    list: "tz-list",
    value: browserTimeZone(),
    autocomplete: "off",
  });
  const catchup = h(
    "select",
    { name: "catchup" },
    ["once", "skip", "all"].map((c) => h("option", { value: c }, c)),
  );
  const oneShot = h(
    "fieldset",
    { class: "row" },
    h("legend", { class: "visually-hidden" }, "One-shot"),
    field("Execution (local time)", when, ["sent as ", preview]),
  );
  const recurring = h(
    "fieldset",
    { class: "row", hidden: true, disabled: true },
    h("legend", { class: "visually-hidden" }, "Recurring"),
    field("Cron expression", cron, "5 or 6 fields, or @daily…"),
    field("Time zone", tz),
    field("Catch-up", catchup),
    zones,
  );
  function showPreview() {
    preview.value = localInputToRfc3339(when.value) ?? "—";
  }
  when.addEventListener("input", showPreview);
  showPreview();
  function kindRadio(value, text, checked) {
    return h(
      "label",
      { class: "radio" },
      h("input", {
        type: "radio",
        name: "kind",
        value,
        checked,
        onchange: () => {
          const isCron = value === "cron";
          oneShot.hidden = oneShot.disabled = isCron;
          recurring.hidden = recurring.disabled = !isCron;
        },
      }),
      text,
    );
  }
  const form = h(
    "form",
    { "aria-label": "Create or replace a job" },
    h(
      "div",
      { class: "row" },
      field("Job id", id),
      h(
        "div",
        { class: "radios", role: "group", "aria-label": "Kind" },
        kindRadio("once", "One-shot", true),
        kindRadio("cron", "Recurring (cron)", false),
      ),
    ),
    oneShot,
    recurring,
    h(
      "div",
      { class: "row" },
      h("button", { type: "submit" }, "Create job"),
      message,
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const isCron = form.elements.kind.value === "cron";
    let body;
    if (isCron) {
      body = { cron: cron.value.trim() };
      if (tz.value.trim()) body.tz = tz.value.trim();
      body.catchup = catchup.value;
    } else {
      const execution = localInputToRfc3339(when.value);
      if (!execution) {
        return fill(
          message,
          h("span", { class: "error" }, "Enter a date and time"),
        );
      }
      body = { execution };
    }
    try {
      const { data } = await api(itemPath("jobs", id.value), {
        method: "PUT",
        body,
      });
      fill(
        message,
        "Saved ",
        h(
          "a",
          { href: `#/job/${encodeURIComponent(data.id)}`, class: "id" },
          data.id,
        ),
      );
      onCreated();
    } catch (error) {
      fill(
        message,
        h("span", { class: "error" }, `Cannot save the job: ${error.message}`),
      );
      app.notify(error, { quiet: true });
    }
  });
  return h(
    "details",
    { class: "panel new-job" },
    h("summary", null, "Create or replace a job"),
    form,
  );
}

export function mount(main, params, app) {
  let state = { prefix: "", status: "", after: "" };
  const prefix = h("input", {
    type: "search",
    name: "prefix",
    placeholder: "e.g. backup.",
    autocomplete: "off",
    spellcheck: "false",
  });
  const status = h(
    "select",
    { name: "status" },
    h("option", { value: "" }, "any"),
    STATUSES.map((s) => h("option", { value: s }, s)),
  );
  const filters = h(
    "form",
    {
      class: "filters row",
      role: "search",
      onsubmit: (e) => {
        e.preventDefault();
        location.hash = jobsHash({
          prefix: prefix.value,
          status: status.value,
        });
      },
    },
    field("Id prefix", prefix),
    field("Status", status),
    h("button", { type: "submit" }, "Apply"),
    h("button", {
      type: "button",
      class: "secondary",
      onclick: () => (location.hash = "#/jobs"),
    }, "Clear"),
  );
  const list = h("div");
  const prev = h(
    "button",
    { type: "button", class: "secondary" },
    "← Previous",
  );
  const next = h("button", { type: "button", class: "secondary" }, "Next →");
  const pageInfo = h("span", { class: "muted", "aria-live": "polite" });
  const pager = h(
    "nav",
    { class: "pager row", "aria-label": "Pages" },
    prev,
    pageInfo,
    next,
  );
  let lastText = "";
  let lastId = "";

  const key = () => `${state.prefix}\u0000${state.status}`;
  prev.addEventListener("click", () => {
    prev.disabled = next.disabled = true; // until this page renders
    const stack = cursors.get(key()) ?? [];
    const before = stack.pop() ?? "";
    cursors.set(key(), stack);
    location.hash = jobsHash({ ...state, after: before });
  });
  next.addEventListener("click", () => {
    prev.disabled = next.disabled = true;
    const stack = cursors.get(key()) ?? [];
    stack.push(state.after);
    cursors.set(key(), stack);
    location.hash = jobsHash({ ...state, after: lastId });
  });

  fill(
    main,
    h("h2", null, "Jobs"),
    createForm(app, () => app.refreshNow()),
    filters,
    list,
    pager,
  );

  function update(p) {
    state = {
      prefix: p.get("prefix") ?? "",
      status: p.get("status") ?? "",
      after: p.get("after") ?? "",
    };
    prefix.value = state.prefix;
    status.value = state.status;
    if (!state.after) cursors.delete(key());
    lastText = "";
  }
  update(params);

  async function refresh() {
    const { data, text } = await api(query("jobs", {
      prefix: state.prefix,
      status: state.status,
      limit: PAGE_SIZE + 1, // one more tells whether a next page exists
      after: state.after,
    }));
    if (text === lastText) return;
    lastText = text;
    const jobs = data.slice(0, PAGE_SIZE);
    const more = data.length > PAGE_SIZE;
    lastId = jobs.at(-1)?.id ?? "";
    const back = cursors.get(key())?.length ?? 0;
    const firstPage = !state.after;
    prev.disabled = firstPage;
    prev.textContent = firstPage || back ? "← Previous" : "← First page";
    next.disabled = !more;
    const page = firstPage
      ? "Page 1"
      : back
      ? `Page ${back + 1}`
      : `After “${state.after}”`;
    fill(
      pageInfo,
      `${page} · ${jobs.length} job${jobs.length === 1 ? "" : "s"}, by id`,
    );
    fill(
      list,
      jobsTable(null, jobs, {
        empty: state.prefix || state.status
          ? "No job matches these filters"
          : "No jobs",
        onRemoved: () => app.refreshNow(),
        onError: (e) => app.notify(e),
      }),
    );
  }

  return { title: "Jobs", refresh, update };
}
