// Tiny DOM builder. Text always goes in as text nodes: untrusted identifiers
// and messages can never become markup (observability.md §3).

/**
 * Creates an element. `attrs` keys starting with "on" take listeners; `class`
 * and other keys become attributes; `style` is refused (the CSP forbids it).
 * Children may be strings, numbers, bigints, nodes, arrays, null or false.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "style" || key === "innerHTML") {
      throw new TypeError(`Cannot set "${key}" on <${tag}>: not allowed`);
    }
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "value" || key === "checked") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el` (same child rules as h()). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A table with a caption, header cells and rows (arrays of cells). */
export function table(caption, headers, rows, empty = "Nothing to show") {
  const body = rows.length
    ? rows.map((cells) =>
      cells instanceof Node
        ? cells
        : h("tr", null, cells.map((c) => h("td", null, c)))
    )
    : h(
      "tr",
      null,
      h("td", { colspan: headers.length, class: "empty" }, empty),
    );
  // data-label lets the narrow layout (style.css) show each cell's header.
  for (const row of Array.isArray(body) ? body : [body]) {
    [...row.children].forEach((cell, i) => {
      if (headers[i] && !cell.hasAttribute("data-label")) {
        cell.setAttribute("data-label", headers[i]);
      }
    });
  }
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      null,
      caption ? h("caption", null, caption) : null,
      h(
        "thead",
        null,
        h("tr", null, headers.map((t) => h("th", { scope: "col" }, t))),
      ),
      h("tbody", null, body),
    ),
  );
}

/** A labelled form control: <label>text <control></label> with an optional hint. */
export function field(text, control, hint) {
  return h(
    "label",
    { class: "field" },
    h("span", { class: "label" }, text),
    control,
    hint ? h("small", { class: "hint" }, hint) : null,
  );
}

/** A link to the job detail view. */
export function jobLink(id) {
  return h("a", { href: `#/job/${encodeURIComponent(id)}`, class: "id" }, id);
}

const STATUSES = new Set(["planned", "triggered", "executed", "failed"]);

/** A status badge; unknown values render as plain text. */
export function statusBadge(status) {
  const known = STATUSES.has(status) ? `badge status-${status}` : "badge";
  return h("span", { class: known }, status);
}

/** Asks a yes/no question in the page's <dialog> (never a native dialog). */
export function confirmAction(question, action = "Remove") {
  const dialog = document.getElementById("confirm");
  fill(dialog.querySelector(".question"), question);
  dialog.querySelector("button[value=yes]").textContent = action;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => resolve(dialog.returnValue === "yes"),
      {
        once: true,
      },
    );
  });
}
