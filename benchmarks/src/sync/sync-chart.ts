/**
 * Hand-written SVG charts (no dependency): per scenario, bars of bytes on the wire and of seconds for each
 * system, log scales, a whisker for the min–max spread; and the scale curve as two line plots. Pure: returns
 * SVG text, writes nothing.
 */
import type { SystemName } from './lanes.js';
import type { Cell, Spread } from './sync-report.js';
import { formatBytes } from './sync-report.js';
import type { ScalePoint } from './scale-curve.js';

const COLORS: Record<SystemName, string> = { 'deltabox-delta': '#2b7bb9', 'deltabox-full': '#9ecae1', rsync: '#e6550d', 'rsync-fsync': '#a63603' };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Position on a log axis from `lo` to `hi` mapped to [0, width]. */
function logScale(lo: number, hi: number, width: number): (v: number) => number {
  const a = Math.log10(lo);
  const b = Math.log10(hi);
  return (v) => ((Math.log10(Math.max(v, lo)) - a) / (b - a)) * width;
}

function decadeTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) ticks.push(10 ** e);
  return ticks.filter((t) => t >= lo && t <= hi);
}

function panel(x0: number, y0: number, width: number, height: number, title: string, lo: number, hi: number, label: (v: number) => string): { svg: string[]; at: (v: number) => number } {
  const at = logScale(lo, hi, width);
  const svg = [`<text x="${x0}" y="${y0 - 24}" ${FONT} font-size="11" font-weight="bold">${esc(title)}</text>`];
  for (const t of decadeTicks(lo, hi)) {
    const x = x0 + at(t);
    svg.push(`<line x1="${x}" y1="${y0 - 14}" x2="${x}" y2="${y0 + height}" stroke="#ddd"/>`, `<text x="${x}" y="${y0 - 16}" ${FONT} font-size="11" text-anchor="middle" fill="#666">${esc(label(t))}</text>`);
  }
  return { svg, at };
}

function bar(svg: string[], x0: number, at: (v: number) => number, y: number, h: number, s: Spread, color: string, text: string): void {
  const w = Math.max(1, at(s.median));
  svg.push(`<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${h}" fill="${color}"/>`);
  if (s.max > s.min) {
    const a = x0 + at(s.min);
    const b = x0 + at(s.max);
    const m = y + h / 2;
    svg.push(`<path d="M${a.toFixed(1)} ${m}H${b.toFixed(1)}M${a.toFixed(1)} ${y + 2}V${y + h - 2}M${b.toFixed(1)} ${y + 2}V${y + h - 2}" stroke="#222" stroke-width="1"/>`);
  }
  svg.push(`<text x="${(x0 + Math.max(w, at(s.max)) + 4).toFixed(1)}" y="${y + h - 3}" ${FONT} font-size="11" fill="#333">${esc(text)}</text>`);
}

/** Bytes on the wire and seconds per scenario and system. */
export function syncChart(cells: readonly Cell[], subtitle: string): string {
  const scenarios = [...new Set(cells.map((c) => c.scenario))];
  const systems = [...new Set(cells.map((c) => c.system))];
  const barH = 13;
  const rowH = systems.length * (barH + 2) + 16;
  const labelW = 210;
  const panelW = 330;
  const top = 70;
  const width = labelW + 2 * (panelW + 110);
  const height = top + scenarios.length * rowH + 40;
  const bytes = cells.flatMap((c) => [c.wireBytes.min, c.wireBytes.max]);
  const times = cells.flatMap((c) => [c.wallMs.min / 1000, c.wallMs.max / 1000]);
  const bytesPanel = panel(labelW, top, panelW, scenarios.length * rowH, 'bytes on the wire (sent + received, log)', 10 ** Math.floor(Math.log10(Math.min(...bytes))), 10 ** Math.ceil(Math.log10(Math.max(...bytes))), formatBytes);
  const tMin = 10 ** Math.floor(Math.log10(Math.min(...times)));
  const timePanel = panel(labelW + panelW + 110, top, panelW, scenarios.length * rowH, 'seconds, whole process (log)', tMin, 10 ** Math.ceil(Math.log10(Math.max(...times))), (v) => `${v}s`);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" ${FONT} font-size="14" font-weight="bold">deltabox vs rsync: bytes on the wire and time per scenario (median, whisker = min–max)</text>`,
    `<text x="10" y="34" ${FONT} font-size="11" fill="#555">${esc(subtitle)}</text>`,
    ...bytesPanel.svg,
    ...timePanel.svg,
  ];
  scenarios.forEach((scenario, i) => {
    const y = top + i * rowH;
    svg.push(`<text x="${labelW - 8}" y="${y + rowH / 2}" ${FONT} font-size="11" text-anchor="end">${esc(scenario)}</text>`);
    systems.forEach((system, k) => {
      const c = cells.find((x) => x.scenario === scenario && x.system === system);
      if (!c) return;
      const by = y + 4 + k * (barH + 2);
      bar(svg, labelW, bytesPanel.at, by, barH, c.wireBytes, COLORS[system], formatBytes(c.wireBytes.median));
      const t = { median: c.wallMs.median / 1000, min: c.wallMs.min / 1000, max: c.wallMs.max / 1000 };
      bar(svg, labelW + panelW + 110, timePanel.at, by, barH, t, COLORS[system], `${t.median.toFixed(2)} s`);
    });
    svg.push(`<line x1="10" y1="${y + rowH - 2}" x2="${width - 10}" y2="${y + rowH - 2}" stroke="#eee"/>`);
  });
  systems.forEach((system, k) => {
    const x = labelW + k * 150;
    svg.push(`<rect x="${x}" y="${height - 24}" width="12" height="12" fill="${COLORS[system]}"/>`, `<text x="${x + 16}" y="${height - 14}" ${FONT} font-size="11">${system}</text>`);
  });
  svg.push('</svg>');
  return `${svg.join('\n')}\n`;
}

/** Two line plots against the file count (log x): no-change rescan seconds (deltabox, rsync) and scanner RSS. */
export function scaleChart(points: readonly ScalePoint[], subtitle: string): string {
  const w = 320;
  const h = 200;
  const left = 60;
  const top = 60;
  const gap = 90;
  const width = left + 2 * w + gap + 30;
  const height = top + h + 60;
  const files = points.map((p) => p.files);
  const x = logScale(Math.min(...files) / 1.5, Math.max(...files) * 1.5, w);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" ${FONT} font-size="14" font-weight="bold">deltabox scale curve: no-change rescan and scanner memory</text>`,
    `<text x="10" y="34" ${FONT} font-size="11" fill="#555">${esc(subtitle)}</text>`,
  ];
  const plot = (x0: number, title: string, series: { name: string; color: string; values: (number | undefined)[] }[], unit: string): void => {
    const all = series.flatMap((s) => s.values).filter((v): v is number => v !== undefined);
    const yMax = Math.max(...all) * 1.15;
    const y = (v: number): number => top + h - (v / yMax) * h;
    svg.push(`<text x="${x0}" y="${top - 10}" ${FONT} font-size="11" font-weight="bold">${esc(title)}</text>`);
    svg.push(`<path d="M${x0} ${top}V${top + h}H${x0 + w}" stroke="#333" fill="none"/>`);
    for (let k = 0; k <= 4; k++) {
      const v = (yMax * k) / 4;
      svg.push(`<line x1="${x0}" y1="${y(v)}" x2="${x0 + w}" y2="${y(v)}" stroke="#eee"/>`, `<text x="${x0 - 4}" y="${y(v) + 4}" ${FONT} font-size="11" text-anchor="end" fill="#666">${v < 10 ? v.toFixed(2) : v.toFixed(0)}${unit}</text>`);
    }
    for (const f of files) svg.push(`<text x="${x0 + x(f)}" y="${top + h + 16}" ${FONT} font-size="11" text-anchor="middle" fill="#666">${f >= 1000 ? `${f / 1000}k` : f} files</text>`);
    series.forEach((s, k) => {
      const pts = points.map((p, i) => [p.files, s.values[i]] as const).filter((p): p is readonly [number, number] => p[1] !== undefined);
      if (pts.length === 0) return;
      svg.push(`<path d="${pts.map(([f, v], i) => `${i === 0 ? 'M' : 'L'}${(x0 + x(f)).toFixed(1)} ${y(v).toFixed(1)}`).join('')}" stroke="${s.color}" stroke-width="2" fill="none"/>`);
      for (const [f, v] of pts) svg.push(`<circle cx="${(x0 + x(f)).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${s.color}"/>`, `<text x="${(x0 + x(f) + 5).toFixed(1)}" y="${(y(v) - 5).toFixed(1)}" ${FONT} font-size="11" fill="${s.color}">${v < 10 ? v.toFixed(2) : v.toFixed(0)}</text>`);
      svg.push(`<rect x="${x0 + 10 + k * 150}" y="${top + h + 30}" width="10" height="10" fill="${s.color}"/>`);
      svg.push(`<text x="${x0 + 24 + k * 150}" y="${top + h + 39}" ${FONT} font-size="11">${esc(s.name)}</text>`);
    });
  };
  plot(left, 'no-change rescan, seconds (whole process, median)', [
    { name: 'deltabox scan --once', color: COLORS['deltabox-delta'], values: points.map((p) => p.medianRescanMs / 1000) },
    { name: 'rsync', color: COLORS.rsync, values: points.map((p) => (p.medianRsyncRescanMs === undefined ? undefined : p.medianRsyncRescanMs / 1000)) },
  ], 's');
  plot(left + w + gap, 'scanner peak RSS, MB', [
    { name: 'deltabox scanner, max of first sync and rescans', color: COLORS['deltabox-delta'], values: points.map((p) => (p.maxScannerRssKb === undefined ? undefined : (p.maxScannerRssKb * 1024) / 1e6)) },
  ], '');
  svg.push('</svg>');
  return `${svg.join('\n')}\n`;
}
