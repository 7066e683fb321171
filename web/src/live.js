// Gateway live view (index.html): one message from /ws/live?device=ID per push interval;
// the charts over time keep their history client-side.
import {
  History,
  LiveSocket,
  RateMeter,
  el,
  fmtBytes,
  fmtNumber,
  fmtSeconds,
  fmtSig,
  renderNav,
  setValue,
} from './common.js';
import { bars, color, makeChart } from './charts.js';

const HISTORY = 120;
const LATENCY_STAGES = ['window_stats', 'feature_score'];

let device = new URLSearchParams(location.search).get('device');
let channelIndex = 0;
let windows = []; // the selected device's recent windows: {end, revision, channels}
let latestWindow = null;
let deviceEvents = []; // anomaly events of the selected device, drawn on the score chart
let histogramEdges = [];

const rates = new RateMeter();
const throughput = new History(2, HISTORY);
const latency = new History(1 + 2 * LATENCY_STAGES.length, HISTORY);
const socket = new LiveSocket(onMessage);

const timeSeries = (label, stroke, extra = {}) => ({ label, stroke, width: 1.5, ...extra });

renderNav('index.html');

const statsChart = makeChart(
  document.getElementById('chart-stats'),
  {
    series: [
      {},
      timeSeries('min', '#7fa7cf', { width: 1 }),
      timeSeries('mean', color(0), { width: 2 }),
      timeSeries('max', '#7fa7cf', { width: 1 }),
    ],
    bands: [{ series: [3, 1], fill: 'rgba(31, 119, 180, 0.15)' }],
  },
  [[], [], [], []],
);

const scoresChart = makeChart(
  document.getElementById('chart-scores'),
  {
    series: [
      {},
      timeSeries('score', color(0), { points: { show: true, size: 4 } }),
      timeSeries('threshold', color(1), { dash: [6, 4], points: { show: false } }),
    ],
    scales: { y: { range: (u, min, max) => [0, Math.max(max ?? 1, 1e-3) * 1.1] } },
    hooks: { draw: [drawEvents] },
  },
  [[], [], []],
);

const throughputChart = makeChart(
  document.getElementById('chart-throughput'),
  {
    series: [{}, timeSeries('frames/s', color(2), { fill: 'rgba(44, 160, 44, 0.1)' })],
    scales: { y: { range: (u, min, max) => [0, Math.max(max ?? 1, 1) * 1.1] } },
  },
  throughput.data(),
);

const latencyChart = makeChart(
  document.getElementById('chart-latency'),
  {
    series: [
      {},
      ...LATENCY_STAGES.flatMap((name, i) => [
        timeSeries(`${name} p50`, color(i * 2 + 3), { value: (u, v) => fmtSeconds(v) }),
        timeSeries(`${name} p99`, color(i * 2 + 3), { dash: [4, 3], value: (u, v) => fmtSeconds(v) }),
      ]),
    ],
    axes: [{}, { values: (u, splits) => splits.map(fmtSeconds), size: 70 }],
    scales: { y: { range: (u, min, max) => [0, Math.max(max ?? 1e-3, 1e-6) * 1.1] } },
  },
  latency.data(),
);

const histogramChart = makeChart(
  document.getElementById('chart-histogram'),
  {
    series: [
      {},
      { label: 'count', fill: 'rgba(31, 119, 180, 0.6)', stroke: color(0), paths: bars, points: { show: false } },
    ],
    scales: { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] } },
    axes: [
      {
        // ticks on the bin edges, between the bars (the outer bins are open)
        splits: () => histogramEdges.map((_, i) => i + 0.5),
        values: (u, splits) => splits.map((_, i) => fmtSig(histogramEdges[i])),
      },
      {},
    ],
    legend: { show: false },
  },
  [[], []],
);

let bandsChart = null;
let bandNames = [];

document.getElementById('device-select').addEventListener('change', (event) => {
  device = event.target.value;
  windows = [];
  latestWindow = null;
  socket.open(`/ws/live?device=${encodeURIComponent(device)}`);
});

document.getElementById('channel-select').addEventListener('change', (event) => {
  channelIndex = Number(event.target.value);
  showWindow();
});

socket.open(device ? `/ws/live?device=${encodeURIComponent(device)}` : '/ws/live');

function onMessage(m) {
  showCounters(m.summary, m.time_ms);
  showStageLatency(m.stages ?? [], m.time_ms);
  showDevices(m.devices ?? []);
  showEvents(m.events ?? []);
  if (device === null) device = m.device;
  if (m.device !== device) return; // still the previous device's stream
  deviceEvents = (m.events ?? []).filter((e) => e.device_id === device);
  if (m.window) addWindow(m.window);
  showScores(m.scores);
}

function showCounters(s, timeMs) {
  setValue('frames-in', s.frames_in);
  setValue('windows', s.windows);
  setValue('missing', s.missing);
  setValue('late', s.late);
  setValue('drops', (s.frames_dropped_oldest ?? 0) + (s.frames_dropped_on_stop ?? 0));
  setValue('uplink-acked', s.uplink_acked);
  setValue('uplink-in-flight', s.uplink_in_flight);
  setValue('spool-bytes', s.spool_bytes, fmtBytes(s.spool_bytes));
  const fps = rates.rate('frames_in', s.frames_in, timeMs);
  if (fps === null) return;
  setValue('frames-per-s', Math.round(fps));
  throughput.push(timeMs / 1000, fps);
  throughputChart.setData(throughput.data());
}

function showStageLatency(stages, timeMs) {
  const values = LATENCY_STAGES.flatMap((name) => {
    const run = stages.find((s) => s.name === name)?.run_seconds;
    return [run?.p50 ?? null, run?.p99 ?? null];
  });
  latency.push(timeMs / 1000, ...values);
  latencyChart.setData(latency.data());
}

function showDevices(devices) {
  const select = document.getElementById('device-select');
  const ids = devices.map((d) => d.id);
  if ([...select.options].map((o) => o.value).join('\n') !== ids.join('\n')) {
    select.replaceChildren(...ids.map((id) => el('option', { value: id }, id)));
  }
  if (device !== null) select.value = device;

  document.querySelector('#devices tbody').replaceChildren(
    ...devices.map((d) => {
      const used = d.ring_capacity > 0 ? (100 * d.ring_used) / d.ring_capacity : 0;
      return el(
        'tr',
        { 'data-device': d.id },
        el('td', {}, d.id),
        el('td', {}, d.source ?? '–'),
        el('td', {}, fmtNumber(d.channels)),
        el('td', {}, fmtNumber(d.sample_rate_hz, 1)),
        el('td', {}, fmtNumber(d.frames_accepted)),
        el('td', {}, fmtNumber(d.missing)),
        el('td', {}, fmtNumber(d.late)),
        el('td', {}, fmtNumber(d.duplicates)),
        el('td', {}, fmtNumber(d.drift_ppm, 1)),
        el(
          'td',
          {},
          el(
            'div',
            { class: 'meter', 'data-metric': 'ring_used', 'data-value': d.ring_used },
            el('span', { style: `width:${used.toFixed(1)}%` }),
            el('b', {}, `${fmtNumber(d.ring_used)} / ${fmtNumber(d.ring_capacity)}`),
          ),
        ),
      );
    }),
  );
}

const nsTime = (ns) => new Date(ns / 1e6).toLocaleTimeString();

function showEvents(events) {
  document
    .querySelector('#events tbody')
    .replaceChildren(
      ...events.map((e) =>
        el(
          'tr',
          {},
          el('td', {}, e.device_id),
          el('td', {}, nsTime(e.start_ns)),
          el('td', {}, fmtSeconds((e.end_ns - e.start_ns) / 1e9)),
          el('td', {}, fmtNumber(e.windows)),
          el('td', {}, fmtSig(e.peak_score)),
          el('td', {}, (e.channels ?? []).join(', ')),
          el('td', {}, e.ongoing ? 'ongoing' : 'ended'),
        ),
      ),
    );
}

function addWindow(w) {
  latestWindow = w;
  const last = windows.at(-1);
  const entry = { end: w.window_end_ns, revision: w.revision, channels: w.channels };
  if (last && last.end === w.window_end_ns) {
    if (w.revision !== last.revision) windows[windows.length - 1] = entry;
  } else if (!last || w.window_end_ns > last.end) {
    windows.push(entry);
    if (windows.length > HISTORY) windows.shift();
  }
  showWindow();
}

function showWindow() {
  const w = latestWindow;
  if (!w) return;
  const select = document.getElementById('channel-select');
  if (select.options.length !== w.channels.length) {
    select.replaceChildren(...w.channels.map((c, i) => el('option', { value: i }, String(c.channel))));
  }
  channelIndex = Math.min(channelIndex, w.channels.length - 1);
  select.value = String(channelIndex);
  for (const span of document.querySelectorAll('.channel-name')) span.textContent = select.selectedOptions[0]?.text;

  const model = w.model_version === null || w.model_version === undefined ? '' : `, model v${w.model_version}`;
  document.getElementById('window-info').textContent =
    `(${w.device_id}, ends ${nsTime(w.window_end_ns)}, revision ${w.revision}${model})`;
  document
    .querySelector('#channel-stats tbody')
    .replaceChildren(
      ...w.channels.map((c) =>
        el(
          'tr',
          { 'data-channel': c.channel },
          el('td', {}, String(c.channel)),
          el('td', {}, fmtNumber(c.count)),
          el('td', {}, fmtSig(c.min)),
          el('td', {}, fmtSig(c.max)),
          el('td', {}, fmtSig(c.mean)),
          el('td', {}, fmtSig(c.variance)),
        ),
      ),
    );

  const at = (entry, key) => entry.channels[channelIndex]?.[key] ?? null;
  statsChart.setData([
    windows.map((e) => e.end / 1e9),
    windows.map((e) => at(e, 'min')),
    windows.map((e) => at(e, 'mean')),
    windows.map((e) => at(e, 'max')),
  ]);
  showHistogram(w);
  showBands(w);
}

function showHistogram(w) {
  const edges = w.histogram_edges ?? [];
  const counts = w.histogram_counts?.[channelIndex] ?? [];
  document.getElementById('histogram-note').hidden = edges.length > 0;
  histogramEdges = edges;
  histogramChart.setData([counts.map((_, i) => i), counts]);
}

function showBands(w) {
  const names = w.band_names ?? [];
  const powers = w.band_powers ?? [];
  document.getElementById('bands-note').hidden = powers.length > 0;
  if (powers.length === 0) return;
  if (bandsChart === null || names.join() !== bandNames.join()) {
    bandNames = names;
    bandsChart?.destroy();
    bandsChart = makeChart(
      document.getElementById('chart-bands'),
      {
        series: [
          { label: 'channel' },
          ...names.map((name, i) => ({ label: name, stroke: color(i), width: 1.5, points: { show: true, size: 5 } })),
        ],
        scales: { x: { time: false }, y: { distr: 3 } },
        axes: [{ incrs: [1, 2, 5, 10], values: (u, splits) => splits.map((v) => String(v)) }, { size: 60 }],
      },
      [[], ...names.map(() => [])],
    );
  }
  const positive = (v) => (v > 0 ? v : null); // log scale
  bandsChart.setData([w.channels.map((c) => c.channel), ...names.map((_, b) => powers.map((row) => positive(row[b])))]);
}

function showScores(scores) {
  const points = scores?.points ?? [];
  const threshold = scores?.threshold ?? null;
  scoresChart.setData([points.map(([ns]) => ns / 1e9), points.map(([, score]) => score), points.map(() => threshold)]);
}

/** Shades each anomaly event of the selected device on the score chart. */
function drawEvents(u) {
  const { ctx, bbox } = u;
  const right = bbox.left + bbox.width;
  ctx.save();
  ctx.fillStyle = 'rgba(214, 39, 40, 0.15)';
  ctx.strokeStyle = 'rgba(214, 39, 40, 0.8)';
  for (const e of deviceEvents) {
    const x0 = Math.max(bbox.left, u.valToPos(e.start_ns / 1e9, 'x', true));
    const x1 = e.ongoing ? right : Math.min(right, u.valToPos(e.end_ns / 1e9, 'x', true));
    if (x1 <= x0) continue;
    ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
    ctx.beginPath();
    ctx.moveTo(x0, bbox.top);
    ctx.lineTo(x0, bbox.top + bbox.height);
    ctx.stroke();
  }
  ctx.restore();
}
