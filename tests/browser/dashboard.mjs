// Browser check of the dashboard against a running gateway and collector, in headless
// Chromium driven by playwright-core (from web/node_modules):
//   node tests/browser/dashboard.mjs --gateway http://127.0.0.1:P --collector http://127.0.0.1:P2
//        --screenshots DIR [--report FILE.html]
// Prints one line per check and saves a full-page screenshot of each page into DIR; exits 1
// when a check fails (a page or console error fails its page too), 2 on bad usage.
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
const { chromium } = createRequire(path.join(webDir, 'package.json'))('playwright-core');

const { values: args } = parseArgs({
  options: {
    gateway: { type: 'string' },
    collector: { type: 'string' },
    screenshots: { type: 'string' },
    report: { type: 'string' },
  },
});
if (!args.gateway || !args.collector || !args.screenshots) {
  console.error('usage: dashboard.mjs --gateway URL --collector URL --screenshots DIR [--report FILE.html]');
  process.exit(2);
}
await mkdir(args.screenshots, { recursive: true });

const WAIT_MS = 15000;
let failures = 0;

function check(name, ok, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
  if (!ok) failures++;
  return ok;
}

/**
 * Opens `url` in a new page, runs `body(page)` and saves a full-page screenshot `png`; a
 * thrown error (a wait that timed out) fails the page, and so does any page error or console
 * error but those `allowed` lets pass.
 */
async function onPage(browser, title, url, png, body, allowed = () => false) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = new Set();
  page.on('pageerror', (error) => errors.add(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !allowed(message)) {
      errors.add(`console error: ${message.text()} (${message.location().url})`);
    }
  });
  try {
    const response = await page.goto(url);
    const status = response ? `HTTP ${response.status()}` : '';
    if (check(`${title}: ${url} loads`, !response || response.ok(), status)) await body(page);
  } catch (error) {
    check(`${title}: ${url}`, false, error.message.split('\n')[0]);
  } finally {
    const file = path.join(args.screenshots, png);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`     screenshot ${file}`);
    check(`${title}: no page or console errors`, errors.size === 0, [...errors].join('; '));
    await page.close();
  }
}

/** The live view's big numbers, by data-metric. */
const readMetrics = (page) =>
  page.$$eval('.tile .value', (nodes) =>
    Object.fromEntries(nodes.map((n) => [n.dataset.metric, n.dataset.value ?? ''])),
  );

async function gatewayLiveView(page) {
  await page.waitForSelector('#device-select option', { state: 'attached', timeout: WAIT_MS });
  const devices = await page.$$eval('#device-select option', (options) => options.map((o) => o.value));
  check('live view: devices listed', devices.length > 0, devices.join(', '));
  await page.waitForFunction(() => /^\d+$/.test(document.getElementById('frames-in').dataset.value ?? ''), null, {
    timeout: WAIT_MS,
  });
  const first = await readMetrics(page);
  check('live view: #frames-in shows a number', /^\d+$/.test(first.frames_in), JSON.stringify(first));
  const changed = await page
    .waitForFunction(
      (before) => {
        const now = (id) => document.getElementById(id).dataset.value;
        return now('frames-in') !== before.frames_in && now('windows') !== before.windows;
      },
      first,
      { timeout: WAIT_MS },
    )
    .then(
      () => true,
      () => false,
    );
  const later = await readMetrics(page);
  check('live view: frames_in and windows change over time', changed, JSON.stringify(later));

  await page.waitForSelector('#channel-stats tbody tr', { timeout: WAIT_MS });
  const channels = await page.$$eval('#channel-stats tbody tr', (rows) => rows.length);
  check('live view: channel statistics of the latest window', channels > 0, `${channels} channels`);
  for (const chart of [
    'chart-stats',
    'chart-histogram',
    'chart-scores',
    'chart-bands',
    'chart-throughput',
    'chart-latency',
  ]) {
    const found = await page.waitForSelector(`#${chart} canvas`, { timeout: WAIT_MS }).then(
      () => true,
      () => false,
    );
    check(`live view: #${chart} exists`, found);
  }
  const sizes = await page.$$eval('.uplot canvas', (canvases) => canvases.map((c) => [c.width, c.height]));
  const drawn = sizes.filter(([w, h]) => w > 0 && h > 0).length;
  check('live view: uPlot canvases rendered with non-zero size', drawn > 0, `${drawn} of ${sizes.length}`);
  const rings = await page.$$eval('#devices tbody tr', (rows) => rows.length);
  check('live view: ring occupancy per device', rings === devices.length, `${rings} rows`);
}

async function stagesPage(page) {
  await page.waitForSelector('#stages tbody tr[data-stage]', { timeout: WAIT_MS });
  await page.waitForSelector('#conn-status[data-state="live"]', { timeout: WAIT_MS });
  const stages = await page.$$eval('#stages tbody tr[data-stage]', (rows) => rows.map((r) => r.dataset.stage));
  const missing = ['ingest_decode', 'window_stats', 'uplink'].filter((s) => !stages.includes(s));
  check(
    'stages: a row per stage',
    missing.length === 0,
    `${stages.join(', ')}${missing.length ? `; missing ${missing}` : ''}`,
  );
  const bars = await page.$$eval('#stages .stack', (nodes) => nodes.length);
  check('stages: time breakdown bar per stage', bars === stages.length, `${bars} bars`);
  const environment = await page.$$eval('#environment tr[data-key]', (rows) => rows.map((r) => r.dataset.key));
  check(
    'stages: environment table',
    ['version', 'compiler', 'cpu_model'].every((k) => environment.includes(k)),
    environment.join(', '),
  );
}

async function fleetPage(page) {
  // A gateway row with rows stored, read twice (so rows/s has a value).
  const row = '#gateways tbody tr[data-gateway]';
  const stored = await page
    .waitForFunction(
      (selector) =>
        [...document.querySelectorAll(selector)].some(
          (tr) =>
            Number(tr.querySelector('[data-metric="rows"]')?.dataset.value) > 0 &&
            tr.querySelector('[data-metric="rows_per_s"]')?.dataset.value !== undefined,
        ),
      row,
      { timeout: WAIT_MS },
    )
    .then(
      () => true,
      () => false,
    );
  const rows = await page.$$eval(row, (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent).join(' | ')));
  check('fleet: gateway row with rows received and rows/s', rows.length > 0 && stored, rows.join('; ') || 'no rows');
  await page.waitForSelector('#chart-rows canvas', { timeout: WAIT_MS });
  check('fleet: rows/s chart', true);
}

async function reportPage(page) {
  for (const chart of ['chart-throughput', 'chart-latency']) {
    await page.waitForSelector(`#${chart} canvas`, { timeout: WAIT_MS });
    const size = await page.$eval(`#${chart} canvas`, (c) => [c.width, c.height]);
    check(`report: #${chart} rendered`, size[0] > 0 && size[1] > 0, `${size[0]}×${size[1]}`);
  }
  const count = (selector) => page.$$eval(selector, (nodes) => nodes.length);
  const runs = await count('#runs tbody tr');
  check('report: a row per run', runs > 0, `${runs} runs`);
  const stageRows = await count('#stage-breakdown .stage-row');
  check('report: per-stage breakdown', stageRows > 0, `${stageRows} stage bars`);
  check('report: drops table', (await count('#drops tbody tr')) === runs);
  check('report: environment table', (await count('#environments tbody tr')) > 0);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  await onPage(browser, 'live view', `${args.gateway}/`, 'dashboard.png', gatewayLiveView);
  await onPage(browser, 'stages', `${args.gateway}/stages.html`, 'stages.png', stagesPage);
  await onPage(browser, 'fleet', `${args.collector}/fleet.html`, 'fleet.png', fleetPage);
  if (args.report) {
    await onPage(browser, 'report', pathToFileURL(path.resolve(args.report)).href, 'report.png', reportPage);
  }
} finally {
  await browser.close();
}
if (failures > 0) {
  console.error(`dashboard: ${failures} check(s) failed`);
  process.exit(1);
}
console.log('dashboard: all checks passed');
