// Bar charts drawn by uPlot (vendored, see tools/vendor_dashboard.ts).
// uPlot sets sizes through element.style (CSSOM), which the CSP allows; it
// injects no <style> element and no style= attribute.
import uPlot from "./vendor/uplot.js";

export const COLORS = {
  executed: "#2f855a",
  failed: "#c53030",
  planned: "#2b6cb0",
};

const TIME = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
const DAY = new Intl.DateTimeFormat(undefined, { weekday: "short" });
const DAY_TIME = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

/** Axis labels: times, with the weekday where the day changes. */
function axisLabels(splits) {
  let day = null;
  return splits.map((s) => {
    const date = new Date(s * 1000);
    const d = DAY.format(date);
    const label = TIME.format(date);
    if (day !== null && d !== day) {
      day = d;
      return `${d} ${label}`;
    }
    day = d;
    return label;
  });
}

/** The legend's time: the bucket that `midSeconds` is the middle of. */
function bucketText(midSeconds, stepSeconds, format) {
  const start = (midSeconds - stepSeconds / 2) * 1000;
  return `${format.format(new Date(start))}–${
    TIME.format(new Date(start + stepSeconds * 1000))
  }`;
}

const HEIGHT = 190;
const BARS = uPlot.paths.bars({ size: [0.82, 48], gap: 1 });

/**
 * uPlot's options for `series` in buckets of `stepSeconds`; `shown(i, k)`
 * is the value the legend prints for series i at bucket k.
 */
function chartOptions(width, { series, stepSeconds }, shown) {
  const format = stepSeconds >= 3600 ? DAY_TIME : TIME; // legend values
  const axis = { stroke: "#57606a" };
  return {
    width,
    height: HEIGHT,
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    legend: { live: true },
    scales: {
      x: {
        time: true,
        range: (_u, min, max) => [min - stepSeconds / 2, max + stepSeconds / 2],
      },
      y: {
        range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))],
      },
    },
    axes: [
      {
        ...axis,
        grid: { show: false },
        ticks: { stroke: "#d0d7de" },
        space: 70,
        values: (_u, splits) => axisLabels(splits),
      },
      {
        ...axis,
        size: 42,
        grid: { stroke: "#eaeef2" },
        ticks: { show: false },
      },
    ],
    series: [
      {
        label: "Time",
        value: (
          _u,
          v,
        ) => (v === null ? "—" : bucketText(v, stepSeconds, format)),
      },
      ...series.map((s, i) => ({
        label: s.label,
        fill: s.color,
        stroke: s.color,
        width: 0,
        paths: BARS,
        points: { show: false },
        value: (_u, _v, _si, k) => (k === null ? "—" : shown(i, k) ?? "—"),
      })),
    ],
  };
}

/**
 * The drawn data: x at the middle of each bucket, so a bar spans
 * [start, start + step) and the axis ticks fall on the buckets' edges;
 * with `stacked`, running totals (drawn overlapping: uPlot does not stack).
 */
function chartData(startSeconds, stepSeconds, values, stacked) {
  const xs = values[0].map((_, k) => startSeconds + (k + 0.5) * stepSeconds);
  const drawn = stacked
    ? values.map((_, i) =>
      xs.map((_, k) =>
        values.slice(i).reduce((sum, v) => sum + Number(v[k] ?? 0), 0)
      )
    )
    : values.map((v) => v.map(Number));
  return [xs, ...drawn];
}

/**
 * A bar chart of equal buckets (`stepSeconds` wide) in `container`.
 * `series` is [{label, color}]. With `stacked`, each bar shows the sum of the
 * series; the legend still shows each series' own value.
 */
export function barChart(container, { series, stepSeconds, stacked = false }) {
  let plot = null;
  let shown = series.map(() => []);
  const observer = new ResizeObserver(() => {
    if (plot && container.clientWidth) {
      plot.setSize({ width: container.clientWidth, height: HEIGHT });
    }
  });
  observer.observe(container);

  return {
    /** Draws buckets starting at `startSeconds`; `values[i]` is series i. */
    update(startSeconds, values) {
      shown = values;
      const data = chartData(startSeconds, stepSeconds, values, stacked);
      if (plot) {
        plot.setData(data);
        return;
      }
      const options = chartOptions(
        container.clientWidth || 600,
        { series, stepSeconds },
        (i, k) => shown[i][k],
      );
      plot = new uPlot(options, data, container);
    },
    destroy() {
      observer.disconnect();
      plot?.destroy();
    },
  };
}
