// Rules: GET /rules, PUT /rules/{id}, DELETE /rules/{id}.
import { api, itemPath } from "./api.js";
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

function optionsText(options) {
  if (!options) return h("span", { class: "muted" }, "defaults");
  return h(
    "span",
    { class: "mono" },
    OPTION_KEYS.filter((k) => k in options).map((k) => `${k}=${options[k]}`)
      .join(" "),
  );
}

function createForm(app, onCreated) {
  const message = h("p", { class: "form-message", role: "status" });
  const id = h("input", {
    name: "id",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
  });
  const pattern = h("input", {
    name: "pattern",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "empty = every job",
  });
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
  const retries = h("input", {
    type: "number",
    name: "retries",
    min: 0,
    max: 100,
    step: 1,
    placeholder: "0",
  });
  const backoff = h("input", {
    name: "backoff",
    pattern: DURATION,
    placeholder: "10s",
  });
  const maxBackoff = h("input", {
    name: "max_backoff",
    pattern: DURATION,
    placeholder: "1h",
  });
  const timeout = h("input", {
    name: "timeout",
    pattern: DURATION,
    placeholder: "configured",
  });
  function showRunner() {
    fill(argsLabel, RUNNERS[runner.value].label);
    args.placeholder = RUNNERS[runner.value].placeholder;
  }
  runner.addEventListener("change", showRunner);
  showRunner();
  const form = h(
    "form",
    { class: "panel", "aria-labelledby": "new-rule-title" },
    h("h3", { id: "new-rule-title" }, "Create or replace a rule"),
    h(
      "div",
      { class: "row" },
      field("Rule id", id),
      field("Pattern (job id prefix)", pattern),
      field("Runner", runner),
    ),
    h(
      "label",
      { class: "field wide" },
      argsLabel,
      args,
      h("small", { class: "hint" }, "Blank lines are ignored"),
    ),
    h(
      "fieldset",
      { class: "row" },
      h("legend", null, "Options (empty = default)"),
      field("Retries", retries),
      field("Backoff", backoff),
      field("Max backoff", maxBackoff),
      field("Timeout (0 = none)", timeout),
    ),
    h(
      "div",
      { class: "row" },
      h("button", { type: "submit" }, "Save rule"),
      message,
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const options = {};
    if (retries.value !== "") options.retries = Number(retries.value);
    if (backoff.value) options.backoff = backoff.value;
    if (maxBackoff.value) options.max_backoff = maxBackoff.value;
    if (timeout.value) options.timeout = timeout.value;
    const body = {
      pattern: pattern.value,
      runner: runner.value,
      args: args.value.split("\n").map((a) => a.replace(/\r$/, "")).filter((
        a,
      ) => a !== ""),
    };
    if (Object.keys(options).length) body.options = options;
    try {
      const { data } = await api(itemPath("rules", id.value), {
        method: "PUT",
        body,
      });
      fill(message, "Saved rule ", h("strong", { class: "id" }, data.id));
      onCreated();
    } catch (error) {
      fill(
        message,
        h("span", { class: "error" }, `Cannot save the rule: ${error.message}`),
      );
      app.notify(error, { quiet: true });
    }
  });
  return form;
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

  async function remove(rule) {
    if (
      !(await confirmAction([
        "Remove rule ",
        h("strong", { class: "id" }, rule.id),
        "?",
      ]))
    ) return;
    try {
      await api(itemPath("rules", rule.id), { method: "DELETE" });
      app.refreshNow();
    } catch (error) {
      app.notify(error);
    }
  }

  async function refresh() {
    const { data, text } = await api("rules");
    if (text === lastText) return;
    lastText = text;
    const rules = [...data].sort((
      a,
      b,
    ) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const rows = rules.map((rule) =>
      h(
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
            onclick: () => remove(rule),
          }, "Remove"),
        ),
      )
    );
    fill(
      list,
      table(
        `${rules.length} rules`,
        ["Rule", "Pattern", "Runner", "Options", ""],
        rows,
        "No rules",
      ),
    );
  }

  return { title: "Rules", refresh };
}
