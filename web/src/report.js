// The compare report: renders window.SENSORGATE_REPORT (schema sensorgate-compare/1, written
// by `compare` into report.html with this bundle and report.css inlined) into the body.
import { el, fmtNumber, fmtSeconds, fmtSig, stackedBar, stageTimeParts, timeLegend } from './common.js';
import { bars, color, makeChart } from './charts.js';

const report = window.SENSORGATE_REPORT;
const allRuns = report.machines.flatMap((machine, m) =>
  machine.runs.map((run) => ({ machine: machine.label, m, run })),
);
const runs = allRuns.filter((r) => !r.run.skipped); // a skipped run has only a name and the reason
const skipped = allRuns.filter((r) => r.run.skipped);
const runLabel = (r) => `${r.machine} · ${r.run.name}`;
const mean = (values) => (values?.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

const card = (title, ...children) => el('section', { class: 'card' }, el('h2', {}, title), ...children);
const table = (id, head, rows) =>
  el(
    'div',
    { class: 'scroll' },
    el(
      'table',
      { id },
      el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))),
      el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((c) => el('td', {}, c))))),
    ),
  );

const main = el(
  'main',
  {},
  el('h1', {}, 'sensorgate compare report'),
  el(
    'p',
    { class: 'muted' },
    `${report.schema}, created ${report.created}: ${report.machines.length} machine(s), ${runs.length} run(s)`,
  ),
);
if (skipped.length > 0) {
  main.append(
    el(
      'p',
      { id: 'skipped', class: 'note' },
      `Skipped: ${skipped.map((r) => `${runLabel(r)} (${r.run.skipped})`).join('; ')}`,
    ),
  );
}
document.title = `sensorgate compare ${report.created}`;
document.body.append(main);

// Throughput: one bar per run, coloured and grouped by machine.
const throughputChart = el('div', { class: 'chart', id: 'chart-throughput' });
main.append(
  card(
    'Throughput (samples/s)',
    throughputChart,
    table(
      'runs',
      [
        'machine',
        'run',
        'backend',
        'workers',
        'window',
        'devices × channels',
        'input',
        'repeats',
        'samples',
        'wall time (mean)',
        'samples/s',
        'min … max',
        'windows',
      ],
      runs.map(({ machine, run }) => [
        machine,
        run.name,
        run.backend_used === run.backend ? run.backend : `${run.backend} → ${run.backend_used}`,
        fmtNumber(run.workers),
        `${fmtNumber(run.window_ms)} ms`,
        `${run.devices} × ${run.channels} @ ${fmtNumber(run.rate_hz)} Hz`,
        run.input,
        fmtNumber(run.repeats),
        fmtNumber(run.samples),
        fmtSeconds(mean(run.wall_seconds)),
        fmtSig(run.throughput_samples_per_s),
        `${fmtSig(Math.min(...run.throughput_runs))} … ${fmtSig(Math.max(...run.throughput_runs))}`,
        fmtNumber(run.windows),
      ]),
    ),
  ),
);
const categories = runs.map((r) => `${r.run.name}\n${r.machine}`);
makeChart(
  throughputChart,
  {
    height: 260,
    series: [
      { label: 'run', value: (u, i) => (i === null ? '–' : runLabel(runs[i])) },
      ...report.machines.map((machine, m) => ({
        label: machine.label,
        stroke: color(m),
        fill: color(m),
        paths: bars,
        points: { show: false },
        value: (u, v) => fmtSig(v),
      })),
    ],
    scales: {
      x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] },
      y: { range: (u, min, max) => [0, max * 1.1] },
    },
    axes: [
      { splits: () => runs.map((_, i) => i), values: (u, splits) => splits.map((i) => categories[i] ?? ''), size: 50 },
      { values: (u, splits) => splits.map(fmtSig), size: 70 },
    ],
  },
  [
    runs.map((_, i) => i),
    ...report.machines.map((_, m) => runs.map((r) => (r.m === m ? r.run.throughput_samples_per_s : null))),
  ],
);

// Latency: the window latency histogram of each run as a share of its windows, and percentiles.
const latencyChart = el('div', { class: 'chart', id: 'chart-latency' });
main.append(
  card(
    'Window latency',
    latencyChart,
    table(
      'latency',
      ['machine', 'run', 'p50', 'p90', 'p99', 'max'],
      runs.map(({ machine, run }) => [
        machine,
        run.name,
        ...['p50', 'p90', 'p99', 'max'].map((p) => fmtSeconds(run.latency_seconds?.[p])),
      ]),
    ),
  ),
);
const finite = (le) => le.filter((v) => typeof v === 'number' && Number.isFinite(v));
const bounds = [...new Set(runs.flatMap((r) => finite(r.run.latency_histogram?.le ?? [])))].sort((a, b) => a - b);
makeChart(
  latencyChart,
  {
    height: 260,
    series: [
      { label: 'latency ≤', value: (u, v) => fmtSeconds(v) },
      ...runs.map((r, i) => ({
        label: runLabel(r),
        stroke: color(i),
        width: 1.5,
        spanGaps: true,
        value: (u, v) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`),
      })),
    ],
    scales: { x: { time: false, distr: 3 }, y: { range: (u, min, max) => [0, Math.max(max ?? 0, 0.01) * 1.1] } },
    axes: [
      { values: (u, splits) => splits.map((v) => (v === null ? '' : fmtSeconds(v))) },
      { values: (u, splits) => splits.map((v) => `${Math.round(v * 100)}%`) },
    ],
  },
  [
    bounds,
    ...runs.map(({ run }) => {
      const { le = [], counts = [] } = run.latency_histogram ?? {};
      const total = counts.reduce((a, b) => a + b, 0) || 1;
      const share = new Map(le.map((bound, i) => [bound, counts[i] / total]));
      return bounds.map((bound) => share.get(bound) ?? null);
    }),
  ],
);

// Per stage: scheduling, compute and transfer seconds, on one scale across all runs.
const stageTotal = (s) => stageTimeParts(s).reduce((sum, p) => sum + p.value, 0);
const longest = Math.max(1e-9, ...runs.flatMap((r) => (r.run.stages ?? []).map(stageTotal)));
main.append(
  card(
    'Where the time went, per stage',
    el(
      'div',
      { id: 'stage-breakdown' },
      ...runs.map((r) =>
        el(
          'div',
          { class: 'stage-run' },
          el('h3', {}, runLabel(r)),
          ...(r.run.stages ?? []).map((s) =>
            el(
              'div',
              { class: 'stage-row', 'data-stage': s.name },
              el('span', {}, s.name),
              stackedBar(stageTimeParts(s), longest),
              el('span', { class: 'total' }, fmtSeconds(stageTotal(s))),
            ),
          ),
        ),
      ),
    ),
    timeLegend(),
  ),
);

// Drops and environments.
const dropKeys = [...new Set(runs.flatMap((r) => Object.keys(r.run.drops ?? {})))];
main.append(
  card(
    'Drops',
    table(
      'drops',
      ['machine', 'run', ...dropKeys],
      runs.map(({ machine, run }) => [machine, run.name, ...dropKeys.map((k) => fmtNumber(run.drops?.[k]))]),
    ),
  ),
);
const envKeys = [...new Set(report.machines.flatMap((m) => Object.keys(m.environment ?? {})))];
const envValue = (v) =>
  v === null || v === undefined ? '–' : typeof v === 'object' ? el('pre', {}, JSON.stringify(v, null, 2)) : String(v);
main.append(
  card(
    'Environment',
    table(
      'environments',
      ['', ...report.machines.map((m) => m.label)],
      envKeys.map((k) => [k, ...report.machines.map((m) => envValue(m.environment?.[k]))]),
    ),
  ),
);
