/**
 * Wall-clock time of an IANA zone, from `Intl`: the offset at an instant,
 * and the instants a wall time stands for (none in a spring-forward gap,
 * two in a fall-back overlap). Times are milliseconds; a "wall" time is
 * the local date and time written as if it were UTC.
 *
 * @module
 */

const DAY_MS = 86_400_000;
const formats = new Map<string, Intl.DateTimeFormat>();

function formatOf(tz: string): Intl.DateTimeFormat {
  let format = formats.get(tz);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formats.set(tz, format);
  }
  return format;
}

/** The zone's offset from UTC at an instant, in ms (whole seconds). */
export function offsetMs(tz: string, instantMs: number): number {
  const fields: Record<string, number> = {};
  for (const part of formatOf(tz).formatToParts(new Date(instantMs))) {
    if (part.type !== "literal") fields[part.type] = Number(part.value);
  }
  const wall = Date.UTC(
    fields.year!,
    fields.month! - 1,
    fields.day!,
    fields.hour!,
    fields.minute!,
    fields.second!,
  );
  return wall - Math.floor(instantMs / 1000) * 1000;
}

/** The wall time of an instant. */
export function wallOf(tz: string, instantMs: number): number {
  return instantMs + offsetMs(tz, instantMs);
}

/** The smallest and largest offsets a day either side of an instant. */
export function offsetsNear(tz: string, instantMs: number): [number, number] {
  const offsets = [
    offsetMs(tz, instantMs - DAY_MS),
    offsetMs(tz, instantMs),
    offsetMs(tz, instantMs + DAY_MS),
  ];
  return [Math.min(...offsets), Math.max(...offsets)];
}

/**
 * The instants whose wall time is `wallMs`, earliest first: one, two in a
 * fall-back overlap, or, in a spring-forward gap, the first instant after
 * the gap (spec: extensions.md §4).
 */
export function instantsOf(tz: string, wallMs: number): number[] {
  const [low, high] = offsetsNear(tz, wallMs);
  const found: number[] = [];
  for (const offset of low === high ? [low] : [high, low]) {
    const instant = wallMs - offset;
    if (offsetMs(tz, instant) === offset) found.push(instant);
  }
  if (found.length > 0) return found;
  return [gapEnd(tz, wallMs - high, wallMs - low)];
}

/** The first instant of the later offset, between two instants. */
function gapEnd(tz: string, beforeMs: number, afterMs: number): number {
  const later = offsetMs(tz, afterMs);
  let low = beforeMs; // its offset is the earlier one
  let high = afterMs;
  while (high - low > 1000) {
    const middle = low + Math.max(1, Math.floor((high - low) / 2000)) * 1000;
    if (offsetMs(tz, middle) === later) high = middle;
    else low = middle;
  }
  return high;
}
