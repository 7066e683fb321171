// Builds the dashboard into the directory given as the first argument (CMake passes
// <build>/share/sensorgate/web): the pages, one bundle per page with uPlot inside, and
// report.js/report.css, which `compare` inlines into report.html. Also writes
// report-sample.html, the report of sample-report.json put together the same way.
import * as esbuild from 'esbuild';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, 'src');
if (process.argv.length !== 3) {
  console.error('usage: node build.mjs OUTPUT_DIR');
  process.exit(2);
}
const out = path.resolve(process.argv[2]);
await mkdir(out, { recursive: true });

await esbuild.build({
  entryPoints: ['live.js', 'stages.js', 'fleet.js', 'report.js', 'style.css', 'report.css'].map((f) =>
    path.join(src, f),
  ),
  outdir: out,
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  logLevel: 'warning',
});
for (const page of ['index.html', 'stages.html', 'fleet.html']) {
  await copyFile(path.join(src, page), path.join(out, page));
}

/** report.html as `compare` writes it (gateway/compare/src/report.cpp): styles, data and script inline. */
function reportHtml(css, json, js) {
  // "<" occurs only inside JSON strings, where "<\/" and "\u003c" mean the same.
  const data = json.replaceAll('</', '<\\/').replaceAll('<!--', '\\u003c!--');
  return (
    '<!doctype html><html><head><meta charset="utf-8"><title>sensorgate compare</title>' +
    `<style>${css}</style></head><body><script>window.SENSORGATE_REPORT = ${data};</script>` +
    `<script>${js}</script></body></html>\n`
  );
}
const read = (file) => readFile(file, 'utf8');
for (const [file, end] of [
  ['report.js', '</script'],
  ['report.css', '</style'],
]) {
  if ((await read(path.join(out, file))).toLowerCase().includes(end)) throw new Error(`${file} contains ${end}`);
}
await writeFile(
  path.join(out, 'report-sample.html'),
  reportHtml(
    await read(path.join(out, 'report.css')),
    JSON.stringify(JSON.parse(await read(path.join(here, 'sample-report.json')))),
    await read(path.join(out, 'report.js')),
  ),
);
console.log(`web: built into ${out}`);
