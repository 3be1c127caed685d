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

/**
 * A bar chart of equal buckets (`stepSeconds` wide) in `container`.
 * `series` is [{label, color}]. With `stacked`, each bar shows the sum of the
 * series, drawn as overlapping bars of running totals (uPlot has no stacking
 * of its own); the legend still shows each series' own value.
 */
export function barChart(container, { series, stepSeconds, stacked = false }) {
  let plot = null;
  let shown = series.map(() => []);
  const bars = uPlot.paths.bars({ size: [0.82, 48], gap: 1 });
  const format = stepSeconds >= 3600 ? DAY_TIME : TIME; // legend values

  function options(width) {
    return {
      width,
      height: 190,
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      legend: { live: true },
      scales: {
        x: {
          time: true,
          range: (
            _u,
            min,
            max,
          ) => [min - stepSeconds / 2, max + stepSeconds / 2],
        },
        y: {
          range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))],
        },
      },
      axes: [
        {
          stroke: "#57606a",
          grid: { show: false },
          ticks: { stroke: "#d0d7de" },
          space: 70,
          values: (_u, splits) => axisLabels(splits),
        },
        {
          stroke: "#57606a",
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
          ) => (v === null ? "—" : format.format(new Date(v * 1000))),
        },
        ...series.map((s, i) => ({
          label: s.label,
          fill: s.color,
          stroke: s.color,
          width: 0,
          paths: bars,
          points: { show: false },
          value: (
            _u,
            _v,
            _si,
            idx,
          ) => (idx === null ? "—" : shown[i][idx] ?? "—"),
        })),
      ],
    };
  }

  const observer = new ResizeObserver(() => {
    if (plot && container.clientWidth) {
      plot.setSize({ width: container.clientWidth, height: 190 });
    }
  });
  observer.observe(container);

  return {
    /** Draws buckets starting at `startSeconds`; `values[i]` is series i. */
    update(startSeconds, values) {
      shown = values;
      const xs = values[0].map((_, k) => startSeconds + k * stepSeconds);
      const drawn = stacked
        ? values.map((_, i) =>
          xs.map((_, k) =>
            values.slice(i).reduce((sum, v) => sum + Number(v[k] ?? 0), 0)
          )
        )
        : values.map((v) => v.map(Number));
      const data = [xs, ...drawn];
      if (plot) plot.setData(data);
      else {plot = new uPlot(
          options(container.clientWidth || 600),
          data,
          container,
        );}
    },
    destroy() {
      observer.disconnect();
      plot?.destroy();
    },
  };
}
