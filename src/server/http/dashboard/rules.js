// Rules: GET /rules, PUT /rules/{id}, DELETE /rules/{id}.
import { api, features, itemPath } from "./api.js";
import { confirmAction, field, fill, h, table } from "./dom.js";

const RUNNERS = {
  shell: {
    label: "Command (one line)",
    placeholder: "/usr/local/bin/backup --daily",
  },
  direct: {
    label: "Executable, then one argument per line",
    placeholder: "/opt/deploy/notify\n--channel\nops",
  },
  awf: {
    label: "Workflow, then --input and k=v, one per line",
    placeholder: "deploy\n--input\nenv=prod",
  },
  http: {
    label: "Method, then URL, one per line",
    placeholder: "POST\nhttp://127.0.0.1:8080/hook",
  },
};
const OPTION_KEYS = ["retries", "backoff", "max_backoff", "timeout"];
const DURATION = "[0-9]+(ms|s|m|h|d)?";
const TEXT = { autocomplete: "off", spellcheck: "false" };

function optionsText(options) {
  if (!options) return h("span", { class: "muted" }, "defaults");
  return h(
    "span",
    { class: "mono" },
    OPTION_KEYS.filter((k) => k in options).map((k) => `${k}=${options[k]}`)
      .join(" "),
  );
}

/** The option fields; disabled, with a note, when the daemon has none. */
function optionFields() {
  const duration = (name, placeholder) =>
    h("input", { name, pattern: DURATION, placeholder });
  const retries = h("input", {
    type: "number",
    name: "retries",
    min: 0,
    max: 100,
    step: 1,
    placeholder: "0",
  });
  const backoff = duration("backoff", "10s");
  const maxBackoff = duration("max_backoff", "1h");
  const timeout = duration("timeout", "configured");
  const legend = h("legend", null, "Options (empty = default)");
  const set = h(
    "fieldset",
    { class: "row" },
    legend,
    field("Retries", retries),
    field("Backoff", backoff),
    field("Max backoff", maxBackoff),
    field("Timeout (0 = none)", timeout),
  );
  features().then(({ ruleOptions }) => {
    if (ruleOptions) return;
    set.disabled = true;
    legend.after(h(
      "p",
      { class: "note" },
      "This daemon does not support rule options yet: rules run once, with the [execution] timeout.",
    ));
  });
  /** The options entered, or undefined (none, or a daemon that has none). */
  function value() {
    if (set.disabled) return undefined;
    const options = {};
    if (retries.value !== "") options.retries = Number(retries.value);
    if (backoff.value) options.backoff = backoff.value;
    if (maxBackoff.value) options.max_backoff = maxBackoff.value;
    if (timeout.value) options.timeout = timeout.value;
    return Object.keys(options).length ? options : undefined;
  }
  return { set, value };
}

/** The runner select and its arguments, labelled after the runner. */
function runnerFields() {
  const runner = h(
    "select",
    { name: "runner" },
    Object.keys(RUNNERS).map((r) => h("option", { value: r }, r)),
  );
  const argsLabel = h("span", { class: "label" });
  const args = h("textarea", {
    name: "args",
    rows: 3,
    required: true,
    spellcheck: "false",
  });
  function showRunner() {
    fill(argsLabel, RUNNERS[runner.value].label);
    args.placeholder = RUNNERS[runner.value].placeholder;
  }
  runner.addEventListener("change", showRunner);
  showRunner();
  const argsField = h(
    "label",
    { class: "field wide" },
    argsLabel,
    args,
    h("small", { class: "hint" }, "Blank lines are ignored"),
  );
  /** One argument per line; blank lines dropped. */
  const argList = () =>
    args.value.split("\n").map((a) => a.replace(/\r$/, "")).filter((a) => a);
  return { runner, argsField, argList };
}

/** PUT /rules/{id}; the answer (or the daemon's refusal) goes in `message`. */
async function saveRule(app, id, body, message, onCreated) {
  try {
    const { data } = await api(itemPath("rules", id), { method: "PUT", body });
    fill(message, "Saved rule ", h("strong", { class: "id" }, data.id));
    onCreated();
  } catch (error) {
    fill(
      message,
      h("span", { class: "error" }, `Cannot save the rule: ${error.message}`),
    );
    app.notify(error, { quiet: true });
  }
}

function createForm(app, onCreated) {
  const message = h("p", { class: "form-message", role: "status" });
  const id = h("input", { name: "id", required: true, ...TEXT });
  const pattern = h("input", {
    name: "pattern",
    placeholder: "empty = every job",
    ...TEXT,
  });
  const runner = runnerFields();
  const options = optionFields();
  const form = h(
    "form",
    { class: "panel", "aria-labelledby": "new-rule-title" },
    h("h3", { id: "new-rule-title" }, "Create or replace a rule"),
    h(
      "div",
      { class: "row" },
      field("Rule id", id),
      field("Pattern (job id prefix)", pattern),
      field("Runner", runner.runner),
    ),
    runner.argsField,
    options.set,
    h(
      "div",
      { class: "row" },
      h("button", { type: "submit" }, "Save rule"),
      message,
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {
      pattern: pattern.value,
      runner: runner.runner.value,
      args: runner.argList(),
    };
    const chosen = options.value();
    if (chosen) body.options = chosen;
    saveRule(app, id.value, body, message, onCreated);
  });
  return form;
}

/** Asks, then removes a rule; the view refreshes, errors go to the page. */
async function removeRule(app, rule) {
  const question = ["Remove rule ", h("strong", { class: "id" }, rule.id), "?"];
  if (!(await confirmAction(question))) return;
  try {
    await api(itemPath("rules", rule.id), { method: "DELETE" });
    app.refreshNow();
  } catch (error) {
    app.notify(error);
  }
}

function ruleRow(app, rule) {
  return h(
    "tr",
    null,
    h("th", { scope: "row", class: "id" }, rule.id),
    h(
      "td",
      { class: "id" },
      rule.pattern === ""
        ? h("span", { class: "muted" }, "(empty: every job)")
        : rule.pattern,
    ),
    h("td", null, rule.runner),
    h("td", null, optionsText(rule.options)),
    h(
      "td",
      { class: "actions" },
      h("button", {
        type: "button",
        class: "small danger",
        "aria-label": `Remove rule ${rule.id}`,
        onclick: () => removeRule(app, rule),
      }, "Remove"),
    ),
  );
}

export function mount(main, _params, app) {
  const list = h("div");
  fill(
    main,
    h("h2", null, "Rules"),
    list,
    createForm(app, () => app.refreshNow()),
  );
  let lastText = "";

  async function refresh() {
    const { data, text } = await api("rules");
    if (text === lastText) return;
    lastText = text;
    const rules = [...data].sort((a, b) =>
      a.id < b.id ? -1 : a.id > b.id ? 1 : 0
    );
    fill(
      list,
      table(
        `${rules.length} rules`,
        ["Rule", "Pattern", "Runner", "Options", ""],
        rules.map((rule) => ruleRow(app, rule)),
        "No rules",
      ),
    );
  }

  return { title: "Rules", refresh };
}
