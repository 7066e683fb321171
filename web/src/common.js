// Shared by the dashboard pages: the access token, REST and WebSocket helpers, the nav,
// number formatting, client-side history buffers and stacked bars (charts are in charts.js).

const token = new URLSearchParams(location.search).get('token');

/** `path` with the page's `?token=` added (the server's bearer token, needed for WebSockets). */
export function withToken(path) {
  const url = new URL(path, location.href);
  if (token) url.searchParams.set('token', token);
  return url.pathname + url.search;
}

export async function getJson(path) {
  const response = await fetch(withToken(path), { cache: 'no-store' });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

/** Whether the server is the collector (`/healthz` names its role). */
export async function isCollector() {
  const response = await fetch(withToken('/healthz'), { cache: 'no-store' });
  return response.ok && (await response.json()).role === 'collector';
}

/**
 * A WebSocket that reconnects after 2 s when closed, shows its state in `#conn-status`, and
 * passes each parsed message to `onMessage`. `open(path)` switches to another URL.
 */
export class LiveSocket {
  constructor(onMessage) {
    this.onMessage = onMessage;
    this.ws = null;
    this.retry = null;
  }

  open(path) {
    this.path = path;
    clearTimeout(this.retry);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
    }
    const url = new URL(withToken(path), location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url);
    this.ws = ws;
    setStatus('connecting');
    ws.onopen = () => setStatus('live');
    ws.onmessage = (event) => this.onMessage(JSON.parse(event.data));
    ws.onclose = () => {
      setStatus('disconnected, retrying');
      this.retry = setTimeout(() => this.open(this.path), 2000);
    };
  }
}

/** Shows a failed start in the nav's status (and on the console). */
export function showError(error) {
  setStatus(`error: ${error.message}`);
  console.error(error);
}

function setStatus(text) {
  const el = document.getElementById('conn-status');
  if (!el) return;
  el.textContent = text;
  el.dataset.state = text === 'live' ? 'live' : 'down';
}

const pages = [
  ['index.html', 'Live'],
  ['stages.html', 'Stages'],
  ['fleet.html', 'Fleet'],
];

/** Fills `<nav id="nav">` with the page links (keeping the token) and a connection status. */
export function renderNav(active) {
  const nav = document.getElementById('nav');
  nav.replaceChildren(el('span', { class: 'brand' }, 'sensorgate'));
  for (const [href, label] of pages) {
    nav.append(el('a', { href: withToken(href), class: href === active ? 'active' : '' }, label));
  }
  nav.append(el('span', { id: 'conn-status', 'data-state': 'down' }, 'connecting'));
}

/** A DOM element with attributes and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== '') node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** Sets `#id`'s text to `text` and its `data-value` to the raw value (for tests). */
export function setValue(id, value, text = fmtNumber(value)) {
  const node = document.getElementById(id);
  node.textContent = text;
  node.dataset.value = value ?? '';
}

export function fmtNumber(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  return Number(v).toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function fmtSig(v) {
  if (v === null || v === undefined) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

export function fmtBytes(v) {
  if (v === null || v === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function fmtSeconds(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return '–';
  if (s === 0) return '0';
  if (s < 1e-3) return `${(s * 1e6).toPrecision(3)} µs`;
  if (s < 1) return `${(s * 1e3).toPrecision(3)} ms`;
  return `${s.toPrecision(3)} s`;
}

/** Column-wise history of the last `limit` points: `push(x, y1, y2, ...)`, `data()` for uPlot. */
export class History {
  constructor(columns, limit = 120) {
    this.columns = Array.from({ length: columns }, () => []);
    this.limit = limit;
  }

  push(...values) {
    this.columns.forEach((column, i) => {
      column.push(values[i] ?? null);
      if (column.length > this.limit) column.shift();
    });
  }

  data() {
    return this.columns;
  }
}

/**
 * Rates per second of counters, over the readings of the last `spanMs` (smoothing the
 * batch-by-batch arrival): `rate(key, value, timeMs)` returns null for the first reading of
 * `key` and after a counter reset.
 */
export class RateMeter {
  constructor(spanMs = 2000) {
    this.spanMs = spanMs;
    this.readings = new Map(); // key -> [{value, timeMs}], oldest first
  }

  rate(key, value, timeMs) {
    let readings = this.readings.get(key) ?? [];
    if (readings.length > 0 && (value < readings.at(-1).value || timeMs <= readings.at(-1).timeMs)) readings = [];
    readings.push({ value, timeMs });
    while (readings.length > 2 && timeMs - readings[1].timeMs >= this.spanMs) readings.shift();
    this.readings.set(key, readings);
    const first = readings[0];
    return readings.length < 2 ? null : ((value - first.value) * 1000) / (timeMs - first.timeMs);
  }
}

/** A horizontal bar of stacked parts `[{label, value, cls}]`, each part's width its share of `total`. */
export function stackedBar(parts, total) {
  const bar = el('div', { class: 'stack' });
  for (const part of parts) {
    const share = total > 0 ? (100 * part.value) / total : 0;
    bar.append(
      el('span', {
        class: part.cls,
        style: `width:${share.toFixed(2)}%`,
        title: `${part.label}: ${fmtSeconds(part.value)} (${share.toFixed(1)}%)`,
      }),
    );
  }
  return bar;
}

/** The legend for stackedBar's time parts. */
export function timeLegend() {
  return el(
    'div',
    { class: 'legend' },
    el('span', { class: 'key sched' }),
    'scheduling delay ',
    el('span', { class: 'key compute' }),
    'compute ',
    el('span', { class: 'key transfer' }),
    'transfer',
  );
}

/** A stage's time parts for stackedBar. */
export function stageTimeParts(stage) {
  return [
    { label: 'scheduling delay', value: stage.scheduling_delay_seconds_total ?? 0, cls: 'sched' },
    { label: 'compute', value: stage.compute_seconds_total ?? 0, cls: 'compute' },
    { label: 'transfer', value: stage.transfer_seconds_total ?? 0, cls: 'transfer' },
  ];
}

/** Rows of an object as a two-column key/value table body (nested objects as JSON). */
export function keyValueRows(object) {
  return Object.entries(object ?? {}).map(([key, value]) =>
    el(
      'tr',
      { 'data-key': key },
      el('th', {}, key),
      el(
        'td',
        {},
        value !== null && typeof value === 'object'
          ? el('pre', {}, JSON.stringify(value, null, 2))
          : value === null
            ? '–'
            : String(value),
      ),
    ),
  );
}
