// Hash router, 2 s refresh while visible, token prompt, banners.
import {
  ApiError,
  AuthRequired,
  getToken,
  NotLeader,
  setToken,
} from "./api.js";
import { fill } from "./dom.js";
import * as failures from "./failures.js";
import * as job from "./job.js";
import * as jobs from "./jobs.js";
import * as overview from "./overview.js";
import * as rules from "./rules.js";

const REFRESH_MS = 2000;
const ROUTES = { "": overview, jobs, job, rules, failures };

const main = document.getElementById("main");
const banner = document.getElementById("banner");
const updated = document.getElementById("updated");
const auth = document.getElementById("auth");
const authForm = auth.querySelector("form");
const authError = auth.querySelector(".error");
const signOut = document.getElementById("sign-out");

let route = { name: null, params: new URLSearchParams() };
let view = null;
let timer = 0;
let running = false;
let again = false;
let authShown = false;

/** "#/jobs?status=planned" → { name: "jobs", params }; "#/job/<id>" → id param. */
function parseHash() {
  const hash = location.hash.startsWith("#/") ? location.hash.slice(2) : "";
  const cut = hash.indexOf("?");
  const path = cut < 0 ? hash : hash.slice(0, cut);
  const params = new URLSearchParams(cut < 0 ? "" : hash.slice(cut + 1));
  if (path.startsWith("job/")) {
    try {
      params.set("id", decodeURIComponent(path.slice(4)));
    } catch {
      params.set("id", path.slice(4));
    }
    return { name: "job", params };
  }
  return { name: Object.hasOwn(ROUTES, path) ? path : "", params };
}

function show(next) {
  const same = view && next.name === route.name && next.name !== "job" &&
    view.update;
  route = next;
  if (same) {
    view.update(next.params);
  } else {
    view?.unmount?.();
    view = ROUTES[next.name].mount(main, next.params, app);
    main.focus({ preventScroll: true });
  }
  document.title = `${view.title} · ztick`;
  for (const link of document.querySelectorAll("nav.views a")) {
    const target = link.getAttribute("href").slice(2);
    if (target === (next.name === "job" ? "jobs" : next.name)) {
      link.setAttribute("aria-current", "page");
    } else link.removeAttribute("aria-current");
  }
  refreshNow();
}

function setBanner(text, kind = "error") {
  banner.hidden = !text;
  banner.className = `banner ${kind}`;
  fill(banner, text ?? "");
}

function showAuth(refused) {
  authShown = true;
  if (refused) setToken(null);
  authError.hidden = !refused;
  auth.hidden = false;
  main.hidden = true;
  signOut.hidden = true;
  setBanner(null);
  authForm.reset();
  authForm.elements.token.focus();
}

authForm.addEventListener("submit", (event) => {
  event.preventDefault();
  setToken(authForm.elements.token.value.trim());
  authShown = false;
  auth.hidden = true;
  main.hidden = false;
  refreshNow();
});

signOut.addEventListener("click", () => {
  setToken(null);
  location.reload();
});

/** Shows an API error the way the whole page treats it. */
function notify(error, { quiet = false } = {}) {
  if (error instanceof AuthRequired) showAuth(error.refused);
  else if (error instanceof NotLeader) {
    setBanner(
      "This node is a follower: jobs, rules and figures are served by the cluster's leader only. Open the leader's dashboard.",
      "warning",
    );
  } else if (error instanceof ApiError && error.status === 0) {
    setBanner("Cannot reach the daemon; retrying every 2 s.");
  } else if (!quiet) {
    const fromDaemon = error instanceof ApiError && error.status !== null;
    setBanner(
      fromDaemon
        ? `Error from the daemon: ${error.message}`
        : `Error: ${error.message}`,
    );
    // deno-lint-ignore no-console -- the browser's console, for a bug report
    if (!(error instanceof ApiError)) console.error(error);
  }
}

function schedule() {
  clearTimeout(timer);
  timer = 0;
  if (document.visibilityState === "visible" && !authShown) {
    timer = setTimeout(refreshNow, REFRESH_MS);
  }
}

/** Refreshes the current view now (never two at once), then every 2 s. */
async function refreshNow() {
  clearTimeout(timer);
  if (running) {
    again = true;
    return;
  }
  running = true;
  const current = view;
  try {
    await current.refresh();
    if (current === view) {
      setBanner(null);
      signOut.hidden = !getToken();
      fill(
        updated,
        `Updated ${
          new Date().toLocaleTimeString(undefined, { hourCycle: "h23" })
        }`,
      );
    }
  } catch (error) {
    notify(error);
  }
  running = false;
  if (again) {
    again = false;
    return refreshNow();
  }
  schedule();
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refreshNow();
  else {
    clearTimeout(timer);
    fill(updated, "Paused while hidden");
  }
});

const app = { refreshNow, notify };
addEventListener("hashchange", () => {
  if (location.hash === "" || location.hash.startsWith("#/")) show(parseHash());
});
show(parseHash());
