/**
 * The HTML report of `tsaio bench --html`: one self-contained page (inline
 * CSS, no script or font from the network) with the seed's table and a
 * timeline per mode — one bar per request, from when it was sent to when its
 * body was read, on a time axis shared by the three modes.
 *
 * Every bar is a `div.bar` with `data-mode`, `data-index`, `data-start-ms`,
 * `data-end-ms` and `data-status`, so a test can find them; a small inline
 * script writes each bar's drawn width (`data-drawn-width`) and the number of
 * bars drawn (`data-bars-drawn` on `<body>`) once the page is laid out.
 *
 * @module
 */

import type { BenchMode, BenchResult, ModeResult, RequestTiming } from './bench.js';
import { seconds } from './_common.js';

/** The colour of each mode's bars. */
export const MODE_COLORS: Readonly<Record<BenchMode, string>> = {
  sync: '#e8590c',
  async: '#1c7ed6',
  limited: '#2f9e44',
};

const FAILED_COLOR = '#e03131';

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A round step for axis ticks: about `target` ticks over `span` ms. */
function tickStep(span: number, target = 10): number {
  const raw = Math.max(span, 1) / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return step ?? 10 * power;
}

/** `value` as a percentage of `scale`, for CSS. */
function pct(value: number, scale: number): string {
  return `${((Math.max(0, value) / scale) * 100).toFixed(4)}%`;
}

function ms(value: number): string {
  return value < 1000 ? `${value.toFixed(0)} ms` : `${(value / 1000).toFixed(2)} s`;
}

function barHtml(r: RequestTiming, scale: number): string {
  const failed = r.error !== null;
  const title = `${r.mode} #${r.index + 1}: ${ms(r.start)} → ${ms(r.end)} (${ms(r.end - r.start)})${
    failed ? ` — ${r.error}` : `, ${r.status}`
  }`;
  const wait =
    r.start - r.queued > 1
      ? `<div class="wait" style="left:${pct(r.queued, scale)};width:${pct(r.start - r.queued, scale)}"></div>`
      : '';
  return (
    `${wait}<div class="bar mode-${r.mode}${failed ? ' failed' : ''}" data-mode="${r.mode}" data-index="${r.index}"` +
    ` data-start-ms="${r.start.toFixed(1)}" data-end-ms="${r.end.toFixed(1)}" data-status="${r.status ?? ''}"` +
    ` style="left:${pct(r.start, scale)};width:${pct(r.end - r.start, scale)}" title="${escapeHtml(title)}"></div>`
  );
}

function modeHtml(m: ModeResult, scale: number, ticks: number[]): string {
  const failed = m.requests.filter((r) => r.error !== null).length;
  const grid = ticks.map((t) => `<div class="grid" style="left:${pct(t, scale)}"></div>`).join('');
  const rows = m.requests
    .map(
      (r) =>
        `<div class="row"><div class="label">#${r.index + 1}</div><div class="track">${barHtml(r, scale)}</div></div>`,
    )
    .join('\n');
  return `<section class="mode" data-mode="${m.mode}">
<h2><span class="swatch" style="background:${MODE_COLORS[m.mode]}"></span>${escapeHtml(m.label)}
<span class="meta">measured <b>${ms(m.elapsed)}</b> · expected ≈ ${seconds(m.expected / 1000, 1)} s${
    failed > 0 ? ` · <span class="bad">${failed} failed</span>` : ''
  }</span></h2>
<div class="lane">
<div class="overlay">${grid}<div class="marker expected" style="left:${pct(m.expected, scale)}" title="expected"></div><div class="marker elapsed" style="left:${pct(m.elapsed, scale)}" title="measured"></div></div>
${rows}
</div>
</section>`;
}

/** Renders the whole report page for `result`. */
export function renderReport(result: BenchResult): string {
  const span = Math.max(1, ...result.modes.flatMap((m) => [m.elapsed, m.expected]));
  const step = tickStep(span);
  const scale = Math.ceil(span / step) * step;
  const ticks: number[] = [];
  for (let t = 0; t <= scale + 1e-9; t += step) ticks.push(t);
  const axis = ticks
    .map((t) => `<div class="tick" style="left:${pct(t, scale)}">${seconds(t / 1000)}s</div>`)
    .join('');
  const totals = result.modes
    .map((m) => {
      const ok = m.requests.filter((r) => r.error === null).length;
      return `<tr><td><span class="swatch" style="background:${MODE_COLORS[m.mode]}"></span>${escapeHtml(m.label)}</td>
<td>≈ ${seconds(m.expected / 1000, 1)}s</td><td class="num">${(m.elapsed / 1000).toFixed(2)}s</td>
<td class="num${ok < m.requests.length ? ' bad' : ''}">${ok}/${m.requests.length}</td></tr>`;
    })
    .join('\n');
  const title = `tsaio bench — ${result.requests} requests, ${seconds(result.delay, 3)} s delay, limit ${result.limit}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
:root { --sync: ${MODE_COLORS.sync}; --async: ${MODE_COLORS.async}; --limited: ${MODE_COLORS.limited}; --failed: ${FAILED_COLOR}; }
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 28px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212529; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 14px 0 6px; display: flex; align-items: center; gap: 8px; }
.sub { color: #6c757d; margin: 0 0 12px; font-size: 12px; }
.meta { font-weight: normal; color: #495057; font-size: 13px; margin-left: 8px; }
.bad { color: var(--failed); font-weight: 600; }
.top { display: flex; gap: 36px; align-items: flex-start; flex-wrap: wrap; }
table { border-collapse: collapse; }
th, td { padding: 3px 12px 3px 0; text-align: left; border-bottom: 1px solid #dee2e6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.legend { display: flex; flex-direction: column; gap: 4px; font-size: 13px; }
.legend .wait-sample { display: inline-block; width: 24px; height: 4px; margin-right: 6px; vertical-align: 2px; background: repeating-linear-gradient(90deg, #adb5bd 0 4px, transparent 4px 7px); }
.legend .line-sample { display: inline-block; width: 2px; height: 12px; margin: 0 16px 0 6px; vertical-align: -1px; }
.chart { margin-top: 14px; padding-right: 18px; }
.axis, .row { display: grid; grid-template-columns: 44px 1fr; }
.axis .scale { position: relative; height: 18px; border-bottom: 1px solid #adb5bd; }
.tick { position: absolute; bottom: 2px; transform: translateX(-50%); font-size: 11px; color: #6c757d; white-space: nowrap; }
.lane { position: relative; }
.overlay { position: absolute; left: 44px; right: 0; top: 0; bottom: 0; pointer-events: none; }
.grid { position: absolute; top: 0; bottom: 0; width: 1px; background: #e9ecef; }
.marker { position: absolute; top: -2px; bottom: -2px; width: 2px; margin-left: -1px; z-index: 2; }
.marker.expected { background: repeating-linear-gradient(180deg, #868e96 0 4px, transparent 4px 7px); }
.marker.elapsed { background: #212529; }
.row { height: 15px; align-items: center; }
.label { font-size: 11px; color: #868e96; text-align: right; padding-right: 8px; font-variant-numeric: tabular-nums; }
.track { position: relative; height: 15px; }
.bar { position: absolute; top: 2px; height: 11px; min-width: 2px; border-radius: 2px; z-index: 1; }
.bar.mode-sync { background: var(--sync); }
.bar.mode-async { background: var(--async); }
.bar.mode-limited { background: var(--limited); }
.bar.failed { background: repeating-linear-gradient(45deg, var(--failed) 0 4px, #ffc9c9 4px 8px); }
.wait { position: absolute; top: 7px; height: 2px; background: repeating-linear-gradient(90deg, #adb5bd 0 4px, transparent 4px 7px); }
footer { margin-top: 16px; font-size: 12px; color: #868e96; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="sub">${escapeHtml(result.url)}${result.embedded ? ' (embedded test server)' : ''} · ${escapeHtml(result.startedAt.toISOString())} · Node.js ${escapeHtml(process.version)}</p>
<div class="top">
<table class="totals">
<thead><tr><th>Method</th><th>Expected</th><th>Measured</th><th>OK</th></tr></thead>
<tbody>
${totals}
</tbody>
</table>
<div class="legend">
<div><span class="swatch" style="background:var(--sync)"></span>Sync: one request after another</div>
<div><span class="swatch" style="background:var(--async)"></span>Async: all at once (gather)</div>
<div><span class="swatch" style="background:var(--limited)"></span>Rate-limited: at most ${result.limit} at once (Semaphore)</div>
<div><span class="wait-sample"></span>waiting for a permit<span class="line-sample" style="background:#212529"></span>measured<span class="line-sample" style="background:#868e96"></span>expected</div>
</div>
</div>
<div class="chart">
<div class="axis"><div></div><div class="scale">${axis}</div></div>
${result.modes.map((m) => modeHtml(m, scale, ticks)).join('\n')}
</div>
<footer>Each bar runs from when the request was sent to when its body was read. Generated by <code>tsaio bench</code>.</footer>
<script>
// Records what was drawn, for tests and tools reading the rendered DOM.
addEventListener('load', () => {
  let drawn = 0;
  for (const bar of document.querySelectorAll('.bar')) {
    const width = bar.getBoundingClientRect().width;
    bar.dataset.drawnWidth = width.toFixed(1);
    if (width > 0) drawn++;
  }
  document.body.dataset.barsDrawn = String(drawn);
});
</script>
</body>
</html>
`;
}
