// Stages page (stages.html), after Spark's stages page: one row per pipeline stage, first
// from /api/v1/stages, then live from the WebSocket (/ws/live on a gateway, /ws/fleet on
// the collector).
import {
  LiveSocket,
  el,
  fmtBytes,
  fmtNumber,
  fmtSeconds,
  getJson,
  isCollector,
  keyValueRows,
  renderNav,
  showError,
  stackedBar,
  stageTimeParts,
  timeLegend,
} from './common.js';

renderNav('stages.html');
document.getElementById('time-legend').append(timeLegend());

function showStages(stages) {
  document.querySelector('#stages tbody').replaceChildren(...stages.map(stageRow));
}

function stageRow(s) {
  const parts = stageTimeParts(s);
  const total = parts.reduce((sum, p) => sum + p.value, 0);
  const drops = Object.entries(s.drops ?? {});
  const dropTotal = drops.reduce((sum, [, n]) => sum + n, 0);
  return el(
    'tr',
    { 'data-stage': s.name },
    el('td', {}, el('b', {}, s.name)),
    el('td', {}, fmtNumber(s.batches)),
    el('td', {}, `${fmtNumber(s.items)} ${s.item_unit ?? ''}`),
    el('td', {}, fmtSeconds(s.run_seconds?.p50)),
    el('td', {}, fmtSeconds(s.run_seconds?.p99)),
    el('td', {}, fmtSeconds(s.run_seconds?.mean)),
    el('td', {}, fmtSeconds(s.queue_wait_seconds?.p50)),
    el('td', {}, fmtSeconds(s.queue_wait_seconds?.p99)),
    el('td', { title: `total ${fmtSeconds(total)}` }, stackedBar(parts, total)),
    el('td', {}, fmtNumber(s.io_operations)),
    el('td', {}, fmtBytes(s.io_bytes)),
    el('td', { title: drops.map(([k, n]) => `${k}: ${n}`).join('\n') }, fmtNumber(dropTotal)),
    el('td', {}, fmtBytes(s.spill_bytes)),
  );
}

function showEnvironment(environment) {
  document.querySelector('#environment tbody').replaceChildren(...keyValueRows(environment));
}

async function start() {
  const collector = await isCollector();
  document.getElementById('server-kind').textContent = collector ? '(collector)' : '(gateway)';
  const initial = await getJson('/api/v1/stages');
  showStages(initial.stages ?? []);
  showEnvironment(initial.environment);
  new LiveSocket((m) => showStages(m.stages ?? [])).open(collector ? '/ws/fleet' : '/ws/live');
}

start().catch(showError);
