// Nanosecond values are bigints (see api.js); Date is used only for display.

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

function floorDiv(a, b) {
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

/** Converts a number, bigint or digit string to a bigint. */
export function toBigInt(value) {
  return typeof value === "bigint" ? value : BigInt(value);
}

/** Milliseconds since the epoch (for Date and charts; sub-ms is dropped). */
export function nsToMs(ns) {
  return Number(floorDiv(toBigInt(ns), NS_PER_MS));
}

const LOCAL = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
  timeZoneName: "short",
});

/** Local wall-clock time of a ns timestamp, to the second. */
export function formatLocal(ns) {
  const ms = nsToMs(ns);
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15
    ? LOCAL.format(new Date(ms))
    : "—";
}

/**
 * UTC time of a ns timestamp, exact to the nanosecond (the fraction is
 * computed on the bigint, not through a double): "2026-04-10 12:00:00.5 UTC".
 */
export function formatUtc(ns) {
  const value = toBigInt(ns);
  const seconds = floorDiv(value, NS_PER_S);
  const fraction = value - seconds * NS_PER_S;
  const iso = new Date(Number(seconds) * 1000).toISOString(); // …T12:00:00.000Z
  const digits = fraction.toString().padStart(9, "0").replace(/0+$/, "");
  return `${iso.slice(0, -5).replace("T", " ")}${
    digits ? "." + digits : ""
  } UTC`;
}

/** A duration in ns as "1.234 s", "3 min 5 s", "2 h 07 min", "4 d 3 h". */
export function formatDuration(ns) {
  const value = toBigInt(ns);
  if (value < 0n) return `-${formatDuration(-value)}`;
  if (value < 1000n) return `${value} ns`;
  if (value < NS_PER_MS) return `${(Number(value) / 1e3).toFixed(1)} µs`;
  if (value < NS_PER_S) return `${(Number(value) / 1e6).toFixed(1)} ms`;
  const s = Number(value / NS_PER_S);
  if (s < 60) return `${(Number(value) / 1e9).toFixed(3)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) {
    return `${Math.floor(s / 3600)} h ${
      String(Math.floor(s / 60) % 60).padStart(2, "0")
    } min`;
  }
  return `${Math.floor(s / 86400)} d ${Math.floor(s / 3600) % 24} h`;
}

/** A lag in ms (a double from /stats) or "—" for null. */
export function formatMs(ms) {
  if (ms === null || ms === undefined) return "—";
  const n = Number(ms);
  return `${n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : Math.round(n)} ms`;
}

function pad(n, width = 2) {
  return String(n).padStart(width, "0");
}

/**
 * Converts a datetime-local value ("2026-04-10T14:00" or with seconds) read
 * in the browser's time zone to RFC 3339 with that zone's offset at that
 * instant ("2026-04-10T14:00:00+02:00"). A local time inside a DST gap moves
 * forward the way Date does. Returns null for an empty or invalid value.
 */
export function localInputToRfc3339(value) {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/
      .exec(value);
  if (!m) return null;
  const [, y, mo, d, hh, mi, ss = "0", ms = "0"] = m;
  const date = new Date(+y, +mo - 1, +d, +hh, +mi, +ss, +ms.padEnd(3, "0"));
  if (Number.isNaN(date.getTime())) return null;
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const frac = date.getMilliseconds()
    ? `.${pad(date.getMilliseconds(), 3)}`
    : "";
  return `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${
    pad(date.getDate())
  }` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${
      pad(date.getSeconds())
    }${frac}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The datetime-local value for "now + minutes" (the create form's default). */
export function localInputIn(minutes) {
  const d = new Date(Date.now() + minutes * 60_000);
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${
    pad(d.getDate())
  }` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:00`;
}

/** The browser's IANA time zone ("UTC" if unknown). */
export function browserTimeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** The machine-readable value for <time datetime>, or null when out of range. */
export function isoDatetime(ns) {
  const ms = nsToMs(ns);
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
}
