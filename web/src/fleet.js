// Collector fleet view (fleet.html): one message from /ws/fleet per push interval; rates
// and latency over time are kept client-side.
import { History, LiveSocket, RateMeter, el, fmtNumber, fmtSeconds, renderNav, setValue } from './common.js';
import { color, makeChart } from './charts.js';

const HISTORY = 120;

renderNav('fleet.html');

const rates = new RateMeter();
const times = [];
const rowRates = new Map(); // gateway id -> rows/s, aligned with times
let rowsChart = null;

const storeLatency = new History(3, HISTORY);
const storeChart = makeChart(
  document.getElementById('chart-store'),
  {
    series: [
      {},
      { label: 'store p50', stroke: color(3), width: 1.5, value: (u, v) => fmtSeconds(v) },
      { label: 'store p99', stroke: color(3), width: 1.5, dash: [4, 3], value: (u, v) => fmtSeconds(v) },
    ],
    axes: [{}, { values: (u, splits) => splits.map(fmtSeconds), size: 70 }],
    scales: { y: { range: (u, min, max) => [0, Math.max(max ?? 1e-3, 1e-6) * 1.1] } },
  },
  storeLatency.data(),
);

new LiveSocket(onMessage).open('/ws/fleet');

function onMessage(m) {
  const gateways = m.gateways ?? [];
  const summary = m.summary ?? {};
  setValue('gateway-count', gateways.length);
  setValue('messages', summary.messages);
  setValue('rows-stored', summary.rows_stored);
  setValue('duplicates', summary.rows_duplicate);
  setValue('bad-messages', summary.bad_messages);
  const total = rates.rate('total', summary.rows_stored, m.time_ms);
  if (total !== null) setValue('rows-per-s', total, fmtNumber(total, 1));

  const current = new Map(
    gateways.map((g) => [g.gateway_id, rates.rate(`gateway ${g.gateway_id}`, g.rows, m.time_ms)]),
  );
  showGateways(gateways, current, m.time_ms);
  showRowRates(current, m.time_ms);

  const run = (m.stages ?? []).find((s) => s.name === 'store')?.run_seconds;
  storeLatency.push(m.time_ms / 1000, run?.p50 ?? null, run?.p99 ?? null);
  storeChart.setData(storeLatency.data());
}

/** A table cell showing a number, its raw value in data-value (for tests). */
const cell = (metric, value, digits = 0) =>
  el('td', { 'data-metric': metric, 'data-value': value }, fmtNumber(value, digits));

function showGateways(gateways, current, timeMs) {
  document
    .querySelector('#gateways tbody')
    .replaceChildren(
      ...gateways.map((g) =>
        el(
          'tr',
          { 'data-gateway': g.gateway_id },
          el('td', {}, g.gateway_id),
          cell('messages', g.messages),
          cell('windows', g.windows),
          cell('rows', g.rows),
          cell('rows_per_s', current.get(g.gateway_id), 1),
          cell('events', g.events),
          el('td', {}, g.last_seen_ms ? `${fmtNumber((timeMs - g.last_seen_ms) / 1000, 1)} s ago` : 'never'),
          cell('last_sequence', g.last_sequence),
        ),
      ),
    );
}

/** Appends this reading's rows/s per gateway; a new gateway gets a new series (and chart). */
function showRowRates(current, timeMs) {
  times.push(timeMs / 1000);
  let added = false;
  for (const id of current.keys()) {
    if (!rowRates.has(id)) {
      rowRates.set(id, new Array(times.length - 1).fill(null));
      added = true;
    }
  }
  for (const [id, values] of rowRates) values.push(current.get(id) ?? null);
  if (times.length > HISTORY) {
    times.shift();
    for (const values of rowRates.values()) values.shift();
  }
  const data = [times, ...rowRates.values()];
  if (rowsChart === null || added) {
    rowsChart?.destroy();
    rowsChart = makeChart(
      document.getElementById('chart-rows'),
      {
        series: [{}, ...[...rowRates.keys()].map((id, i) => ({ label: id, stroke: color(i), width: 1.5 }))],
        scales: { y: { range: (u, min, max) => [0, Math.max(max ?? 1, 1) * 1.1] } },
      },
      data,
    );
  } else {
    rowsChart.setData(data);
  }
}
