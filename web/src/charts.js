// uPlot charts for the dashboard pages and the report: sizing, colours, bar paths.
import uPlot from 'uplot';

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

export function color(i) {
  return palette[i % palette.length];
}

const charts = new Map(); // live uPlot charts -> their containers
let resizePending = false;
const widthOf = (container) => Math.max(240, container.clientWidth);

window.addEventListener('resize', () => {
  if (resizePending) return;
  resizePending = true;
  requestAnimationFrame(() => {
    resizePending = false;
    for (const [chart, container] of charts) chart.setSize({ width: widthOf(container), height: chart.height });
  });
});

/** The default x scale: time in seconds; a single point gets a minute around it, not years. */
const timeScale = {
  time: true,
  range: (u, min, max) => (min === max && min !== null ? [min - 30, max + 30] : [min, max]),
};

/**
 * A uPlot chart as wide as `container`, following window resizes. `opts` are uPlot options
 * without width; `height` defaults to 220.
 */
export function makeChart(container, opts, data) {
  const hooks = { ...opts.hooks, destroy: [(u) => charts.delete(u)] };
  const scales = { x: timeScale, ...opts.scales };
  const chart = new uPlot({ height: 220, ...opts, scales, hooks, width: widthOf(container) }, data, container);
  charts.set(chart, container);
  return chart;
}

/** Bar series paths for uPlot. */
export const bars = uPlot.paths.bars({ size: [0.7, 60] });
