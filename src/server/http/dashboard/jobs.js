// Jobs: filters, id-ordered paging over GET /jobs?limit=&after=, create.
import { api, features, itemPath, query } from "./api.js";
import { field, fill, h } from "./dom.js";
import {
  browserTimeZone,
  localInputIn,
  localInputToRfc3339,
} from "./format.js";
import { jobsTable } from "./jobs_table.js";

export const PAGE_SIZE = 50;
const STATUSES = ["planned", "triggered", "executed", "failed"];
const TEXT = { autocomplete: "off", spellcheck: "false" };

// Cursors of the pages before the current one, per filter, for "Previous".
// GET /jobs only pages forward (after=<last id>), so the way back is remembered.
const cursors = new Map();

function jobsHash({ prefix = "", status = "", after = "" }) {
  const q = query("", { prefix, status, after });
  return `#/jobs${q}`;
}

/** The one-shot fields: a local date and time, and the RFC 3339 text sent. */
function oneShotFields() {
  const when = h("input", {
    type: "datetime-local",
    name: "when",
    step: "1",
    value: localInputIn(10),
  });
  const preview = h("output", { class: "mono" });
  function showPreview() {
    preview.value = localInputToRfc3339(when.value) ?? "—";
  }
  when.addEventListener("input", showPreview);
  showPreview();
  const set = h(
    "fieldset",
    { class: "row" },
    h("legend", { class: "visually-hidden" }, "One-shot"),
    field("Execution (local time)", when, ["sent as ", preview]),
  );
  function body() {
    const execution = localInputToRfc3339(when.value);
    return execution ? { execution } : null;
  }
  return { set, body };
}

/** The recurring fields; a note when the daemon's API lists no cron. */
function recurringFields() {
  const cron = h("input", { name: "cron", placeholder: "30 2 * * *", ...TEXT });
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
  const legend = h("legend", { class: "visually-hidden" }, "Recurring");
  const set = h(
    "fieldset",
    { class: "row", hidden: true, disabled: true },
    legend,
    field("Cron expression", cron, "5 or 6 fields, or @daily…"),
    field("Time zone", tz),
    field("Catch-up", catchup),
    zones,
  );
  features().then(({ cron: served }) => {
    if (served) return;
    legend.after(h(
      "p",
      { class: "note" },
      "This daemon's API does not list recurring jobs yet: it will most likely refuse them.",
    ));
  });
  function body() {
    const recurring = { cron: cron.value.trim() };
    if (tz.value.trim()) recurring.tz = tz.value.trim();
    recurring.catchup = catchup.value;
    return recurring;
  }
  return { set, body };
}

function kindRadio(value, text, checked, onPick) {
  return h(
    "label",
    { class: "radio" },
    h("input", {
      type: "radio",
      name: "kind",
      value,
      checked,
      onchange: onPick,
    }),
    text,
  );
}

/** PUT /jobs/{id}; the answer (or the daemon's refusal) goes in `message`. */
async function saveJob(app, id, body, message, onCreated) {
  if (!body) {
    return fill(
      message,
      h("span", { class: "error" }, "Enter a date and time"),
    );
  }
  try {
    const { data } = await api(itemPath("jobs", id), { method: "PUT", body });
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
}

function createForm(app, onCreated) {
  const message = h("p", { class: "form-message", role: "status" });
  const id = h("input", { name: "id", required: true, ...TEXT });
  const once = oneShotFields();
  const recurring = recurringFields();
  function pick(isCron) {
    once.set.hidden = once.set.disabled = isCron;
    recurring.set.hidden = recurring.set.disabled = !isCron;
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
        kindRadio("once", "One-shot", true, () => pick(false)),
        kindRadio("cron", "Recurring (cron)", false, () => pick(true)),
      ),
    ),
    once.set,
    recurring.set,
    h(
      "div",
      { class: "row" },
      h("button", { type: "submit" }, "Create job"),
      message,
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const isCron = form.elements.kind.value === "cron";
    const body = isCron ? recurring.body() : once.body();
    saveJob(app, id.value, body, message, onCreated);
  });
  return h(
    "details",
    { class: "panel new-job" },
    h("summary", null, "Create or replace a job"),
    form,
  );
}

/** Prefix and status filters; applying one changes the hash. */
function filterControls() {
  const prefix = h("input", {
    type: "search",
    name: "prefix",
    placeholder: "e.g. backup.",
    ...TEXT,
  });
  const status = h(
    "select",
    { name: "status" },
    h("option", { value: "" }, "any"),
    STATUSES.map((s) => h("option", { value: s }, s)),
  );
  const form = h(
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
  return { form, prefix, status };
}

function cursorKey(state) {
  return `${state.prefix}\u0000${state.status}`;
}

/** Previous / Next over the page cursors of the filter in `view.state`. */
function pagerControls(view) {
  const button = (text) =>
    h("button", { type: "button", class: "secondary" }, text);
  const prev = button("← Previous");
  const next = button("Next →");
  const info = h("span", { class: "muted", "aria-live": "polite" });
  function go(after) {
    prev.disabled = next.disabled = true; // until this page renders
    location.hash = jobsHash({ ...view.state, after });
  }
  prev.addEventListener("click", () => {
    const stack = cursors.get(cursorKey(view.state)) ?? [];
    const before = stack.pop() ?? "";
    cursors.set(cursorKey(view.state), stack);
    go(before);
  });
  next.addEventListener("click", () => {
    const stack = cursors.get(cursorKey(view.state)) ?? [];
    stack.push(view.state.after);
    cursors.set(cursorKey(view.state), stack);
    go(view.lastId);
  });
  function show(count, more) {
    const { after } = view.state;
    const back = cursors.get(cursorKey(view.state))?.length ?? 0;
    prev.disabled = !after;
    prev.textContent = !after || back ? "← Previous" : "← First page";
    next.disabled = !more;
    const page = !after
      ? "Page 1"
      : back
      ? `Page ${back + 1}`
      : `After “${after}”`;
    fill(info, `${page} · ${count} job${count === 1 ? "" : "s"}, by id`);
  }
  const nav = h(
    "nav",
    { class: "pager row", "aria-label": "Pages" },
    prev,
    info,
    next,
  );
  return { nav, show };
}

export function mount(main, params, app) {
  const view = { state: { prefix: "", status: "", after: "" }, lastId: "" };
  const filters = filterControls();
  const pager = pagerControls(view);
  const list = h("div");
  let lastText = "";
  fill(
    main,
    h("h2", null, "Jobs"),
    createForm(app, () => app.refreshNow()),
    filters.form,
    list,
    pager.nav,
  );

  function update(p) {
    view.state = {
      prefix: p.get("prefix") ?? "",
      status: p.get("status") ?? "",
      after: p.get("after") ?? "",
    };
    filters.prefix.value = view.state.prefix;
    filters.status.value = view.state.status;
    if (!view.state.after) cursors.delete(cursorKey(view.state));
    lastText = "";
  }
  update(params);

  async function refresh() {
    const { prefix, status, after } = view.state;
    const { data, text } = await api(query("jobs", {
      prefix,
      status,
      limit: PAGE_SIZE + 1, // one more tells whether a next page exists
      after,
    }));
    if (text === lastText) return;
    lastText = text;
    const jobs = data.slice(0, PAGE_SIZE);
    view.lastId = jobs.at(-1)?.id ?? "";
    pager.show(jobs.length, data.length > PAGE_SIZE);
    fill(
      list,
      jobsTable(null, jobs, {
        empty: prefix || status ? "No job matches these filters" : "No jobs",
        onRemoved: () => app.refreshNow(),
        onError: (e) => app.notify(e),
      }),
    );
  }

  return { title: "Jobs", refresh, update };
}
