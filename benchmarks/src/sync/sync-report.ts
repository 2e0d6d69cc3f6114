/**
 * Turns raw runs into medians with their spread, the markdown table (scenario x system, ratios to rsync) and the
 * PASS/FAIL verdicts of the issue's targets. Pure: no I/O, no timing.
 */
import { median } from '../lib/run-info.js';
import type { RunSample, SystemName } from './lanes.js';
import type { LatencyResult } from './latency.js';
import type { DeviceLatencyResult, PullBytesResult } from './two-way.js';
import type { ScalePoint } from './scale-curve.js';

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface Cell {
  scenario: string;
  system: SystemName;
  runs: number;
  wallMs: Spread;
  sentBytes: Spread;
  receivedBytes: Spread;
  wireBytes: Spread;
  reportedMs?: Spread;
  clientCpuMs?: Spread;
  clientPeakRssKb?: Spread;
  serverCpuMs?: Spread;
  serverPeakRssKb?: Spread;
}

function spreadOf(values: readonly (number | undefined)[]): Spread | undefined {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return v.length === 0 ? undefined : { median: median(v), min: Math.min(...v), max: Math.max(...v) };
}

/** Medians per (scenario, system), in the order scenarios were first run. */
export function summarize(samples: readonly RunSample[]): Cell[] {
  const groups = new Map<string, RunSample[]>();
  for (const s of samples) {
    const key = `${s.scenario}\0${s.system}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const cells: Cell[] = [];
  for (const runs of groups.values()) {
    const first = runs[0]!;
    const cell: Cell = {
      scenario: first.scenario,
      system: first.system,
      runs: runs.length,
      wallMs: spreadOf(runs.map((r) => r.wallMs))!,
      sentBytes: spreadOf(runs.map((r) => r.sentBytes))!,
      receivedBytes: spreadOf(runs.map((r) => r.receivedBytes))!,
      wireBytes: spreadOf(runs.map((r) => r.sentBytes + r.receivedBytes))!,
    };
    const optional = {
      reportedMs: spreadOf(runs.map((r) => r.reportedMs)),
      clientCpuMs: spreadOf(runs.map((r) => r.clientCpuMs)),
      clientPeakRssKb: spreadOf(runs.map((r) => r.clientPeakRssKb)),
      serverCpuMs: spreadOf(runs.map((r) => r.serverCpuMs)),
      serverPeakRssKb: spreadOf(runs.map((r) => r.serverPeakRssKb)),
    };
    for (const [k, v] of Object.entries(optional)) if (v !== undefined) (cell as unknown as Record<string, Spread>)[k] = v;
    cells.push(cell);
  }
  return cells;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

const seconds = (ms: number): string => (ms >= 10_000 ? (ms / 1000).toFixed(1) : (ms / 1000).toFixed(2));
const withSpread = (s: Spread, f: (n: number) => string, runs: number): string => (runs > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median));
const mb = (kb: number): string => `${((kb * 1024) / 1e6).toFixed(0)}`;

export function cellOf(cells: readonly Cell[], scenario: string, system: SystemName): Cell | undefined {
  return cells.find((c) => c.scenario === scenario && c.system === system);
}

export function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b === 0 ? 'n/a' : `${(a / b).toFixed(a / b < 0.1 ? 3 : 2)}x`;
}

/** The main table: one row per scenario and system. */
export function resultsTable(cells: readonly Cell[]): string {
  const lines = [
    '| scenario | system | bytes sent | bytes received | seconds, process (min–max) | scanner-reported s | client CPU s | client peak RSS MB | server CPU s | server peak RSS MB | wire vs rsync | time vs rsync | time vs rsync --fsync |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const c of cells) {
    const peer = cellOf(cells, c.scenario, 'rsync');
    const isPeer = c.system === 'rsync';
    lines.push(
      `| ${c.scenario} | ${c.system} | ${withSpread(c.sentBytes, formatBytes, c.runs)} | ${withSpread(c.receivedBytes, formatBytes, c.runs)} | ` +
        `${withSpread(c.wallMs, seconds, c.runs)} | ${c.reportedMs ? seconds(c.reportedMs.median) : '–'} | ${c.clientCpuMs ? seconds(c.clientCpuMs.median) : 'n/a'} | ` +
        `${c.clientPeakRssKb ? mb(c.clientPeakRssKb.median) : 'n/a'} | ${c.serverCpuMs ? seconds(c.serverCpuMs.median) : 'n/a'} | ${c.serverPeakRssKb ? mb(c.serverPeakRssKb.median) : 'n/a'} | ` +
        `${isPeer ? '1x' : ratio(c.wireBytes.median, peer?.wireBytes.median)} | ${isPeer ? '1x' : ratio(c.wallMs.median, peer?.wallMs.median)} | ` +
        `${c.system.startsWith('deltabox') ? ratio(c.wallMs.median, cellOf(cells, c.scenario, 'rsync-fsync')?.wallMs.median) : '–'} |`,
    );
  }
  return lines.join('\n');
}

export interface Verdict {
  target: string;
  measured: string;
  pass: boolean | undefined;
}

export interface TargetInputs {
  cells: readonly Cell[];
  scale: readonly ScalePoint[];
  /** Size at which the RSS target applies (100k files; quick mode stops earlier and says so). */
  rssTargetFiles: number;
  throttled: { delta?: Cell; full?: Cell };
}

/** The issue's targets (issues 4 and 11), each a ratio from this run. */
export function verdicts({ cells, scale, rssTargetFiles, throttled }: TargetInputs): Verdict[] {
  const out: Verdict[] = [];
  const byRatio = (target: string, scenario: string, metric: 'wireBytes' | 'wallMs', limit: number, peer: SystemName = 'rsync'): void => {
    const d = cellOf(cells, scenario, 'deltabox-delta');
    const r = cellOf(cells, scenario, peer);
    if (!d || !r) {
      out.push({ target, measured: 'not measured (scenario not run or peer missing)', pass: undefined });
      return;
    }
    const value = d[metric].median / r[metric].median;
    const show = metric === 'wireBytes' ? formatBytes : (n: number): string => `${seconds(n)} s`;
    out.push({ target, measured: `${value.toFixed(3)}x (${show(d[metric].median)} vs ${show(r[metric].median)})`, pass: value <= limit });
  };
  const byPeak = (target: string, scenario: string, metric: 'clientPeakRssKb' | 'serverPeakRssKb', limitMb: number): void => {
    const kb = cellOf(cells, scenario, 'deltabox-delta')?.[metric]?.median;
    const value = kb === undefined ? undefined : (kb * 1024) / 1e6;
    out.push({ target, measured: value === undefined ? 'not measured' : `${value.toFixed(0)} MB`, pass: value === undefined ? undefined : value < limitMb });
  };
  byRatio('edited big file: deltabox wire bytes <= 0.1x rsync', 'big-scattered-edits', 'wireBytes', 0.1);
  byRatio('edited big file (10 scattered edits): time <= 1.5x rsync', 'big-scattered-edits', 'wallMs', 1.5);
  byRatio('edited 1 GiB file: time <= 1.0x rsync', 'huge-scattered-edits', 'wallMs', 1.0);
  byRatio('tree, 1% edited: wire bytes <= 0.25x rsync', 'tree-1pct-edited', 'wireBytes', 0.25);
  byRatio('tree, 1% edited: time <= 1.0x rsync', 'tree-1pct-edited', 'wallMs', 1.0);
  byRatio('tree, initial sync: time <= 1.0x rsync --fsync', 'tree-initial', 'wallMs', 1.0, 'rsync-fsync');
  byRatio('tree, initial sync: time <= 1.5x rsync', 'tree-initial', 'wallMs', 1.5);
  byRatio('tree, no-change rescan: time <= 1.0x rsync', 'tree-no-change', 'wallMs', 1.0);
  byRatio('tiny files, initial sync: time <= 1.5x rsync', 'tiny-initial', 'wallMs', 1.5);
  byRatio('tiny files, initial sync: time <= 1.0x rsync --fsync', 'tiny-initial', 'wallMs', 1.0, 'rsync-fsync');
  byRatio('tiny files, initial sync: wire bytes <= 1.0x rsync', 'tiny-initial', 'wireBytes', 1.0);
  byRatio('tiny files, no-change rescan: time <= 1.0x rsync', 'tiny-no-change', 'wallMs', 1.0);
  byPeak('tiny files, initial sync: scanner peak RSS < 300 MB', 'tiny-initial', 'clientPeakRssKb', 300);
  byPeak('tiny files, initial sync: server peak RSS < 200 MB', 'tiny-initial', 'serverPeakRssKb', 200);
  const idle = cellOf(cells, 'tree-no-change', 'deltabox-delta');
  out.push({
    target: 'tree, no-change rescan: < 10 KB on the wire',
    measured: idle ? `${formatBytes(idle.wireBytes.median)} (${formatBytes(idle.sentBytes.median)} sent + ${formatBytes(idle.receivedBytes.median)} received)` : 'not measured',
    pass: idle ? idle.wireBytes.median < 10_000 : undefined,
  });
  const largest = scale[scale.length - 1];
  const rssMb = largest?.maxScannerRssKb === undefined ? undefined : (largest.maxScannerRssKb * 1024) / 1e6;
  out.push({
    target: `${rssTargetFiles.toLocaleString('en')} files: scanner peak RSS < 300 MB`,
    measured:
      rssMb === undefined
        ? 'not measured'
        : `${rssMb.toFixed(0)} MB at ${largest!.files.toLocaleString('en')} files${largest!.files < rssTargetFiles ? ' (quick mode: not the target size)' : ''}`,
    pass: rssMb === undefined || largest!.files < rssTargetFiles ? undefined : rssMb < 300,
  });
  const { delta, full } = throttled;
  out.push({
    target: 'throttled 10 Mbit/s, edited big file: delta >= 20x faster than full',
    measured: delta && full ? `${(full.wallMs.median / delta.wallMs.median).toFixed(1)}x (${seconds(full.wallMs.median)} s full vs ${seconds(delta.wallMs.median)} s delta)` : 'not measured',
    pass: delta && full ? full.wallMs.median / delta.wallMs.median >= 20 : undefined,
  });
  return out;
}

export function verdictTable(list: readonly Verdict[]): string {
  const mark = (p: boolean | undefined): string => (p === undefined ? 'n/a' : p ? '**PASS**' : '**FAIL**');
  return ['| target | measured (same run) | verdict |', '|---|---|---|', ...list.map((v) => `| ${v.target} | ${v.measured} | ${mark(v.pass)} |`)].join('\n');
}

export function latencyTable(results: readonly LatencyResult[]): string {
  return [
    '| mode | edits | tree files | p50 | p95 | max | wire sent / received | scanner CPU |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
    ...results.map(
      (r) =>
        `| ${r.mode} | ${r.edits} | ${r.treeFiles} | ${(r.p50Ms / 1000).toFixed(2)} s | ${(r.p95Ms / 1000).toFixed(2)} s | ${(r.maxMs / 1000).toFixed(2)} s | ` +
        `${formatBytes(r.sentBytes)} / ${formatBytes(r.receivedBytes)} | ${r.scannerCpuMs === undefined ? 'n/a' : `${(r.scannerCpuMs / 1000).toFixed(1)} s in ${(r.durationMs / 1000).toFixed(0)} s`} |`,
    ),
  ].join('\n');
}

export function scaleTable(points: readonly ScalePoint[]): string {
  return [
    '| files | tree | first sync s | scanner RSS first sync MB | no-change rescan s (process) | scanner-reported s | rsync no-change s | rescan wire | scanner peak RSS MB |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...points.map((p) => {
      const wire = median(p.rescans.map((r) => r.sentBytes + r.receivedBytes));
      return (
        `| ${p.files.toLocaleString('en')} | ${formatBytes(p.treeBytes)} | ${seconds(p.initial.wallMs)} | ${p.initial.clientPeakRssKb === undefined ? 'n/a' : mb(p.initial.clientPeakRssKb)} | ` +
        `${seconds(p.medianRescanMs)} | ${seconds(median(p.rescans.map((r) => r.reportedMs)))} | ${p.medianRsyncRescanMs === undefined ? 'n/a' : seconds(p.medianRsyncRescanMs)} | ` +
        `${formatBytes(wire)} | ${p.maxScannerRssKb === undefined ? 'n/a' : mb(p.maxScannerRssKb)} |`
      );
    }),
  ].join('\n');
}

/** The two-way figures: propagation device to device, and the bytes of a pull after a small edit. */
export function twoWayTable(latency: DeviceLatencyResult | undefined, pull: PullBytesResult | undefined): string {
  const rows = ['| two-way figure | deltabox | peer | ratio |', '|---|--:|--:|--:|'];
  if (latency) {
    rows.push(
      `| propagation A -> B, ${latency.edits} edits of 1-4 KB (${latency.treeFiles}-file tree, both scanners running) | ` +
        `p50 ${(latency.p50Ms / 1000).toFixed(2)} s, p95 ${(latency.p95Ms / 1000).toFixed(2)} s, max ${(latency.maxMs / 1000).toFixed(2)} s | | |`,
    );
  }
  if (pull) {
    const pulled = pull.pull.sentBytes + pull.pull.receivedBytes;
    rows.push(
      `| B's pull after a ${formatBytes(pull.editBytes)} edit in ${formatBytes(pull.fileBytes)} (B's wire, both ways; ${(pull.pullMs / 1000).toFixed(2)} s from save on A) | ` +
        `${formatBytes(pulled)} (${((pulled / pull.fileBytes) * 100).toFixed(3)}% of the file) | rsync pull: ${pull.rsyncBytes === undefined ? 'n/a' : formatBytes(pull.rsyncBytes)} | ${ratio(pulled, pull.rsyncBytes)} |`,
      `| A's upload of that edit (A's wire, both ways) | ${formatBytes(pull.push.sentBytes + pull.push.receivedBytes)} | | |`,
    );
  }
  return rows.join('\n');
}
