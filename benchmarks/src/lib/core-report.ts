/**
 * The core benchmark's figures -> markdown tables with ratios against rdiff and PASS/FAIL against the targets
 * of the core issue. Formatting and target rules only; measuring is bench-core.ts's job.
 */

/** Medians of one operation by both tools on one scenario. */
export interface ThroughputRow {
  scenario: string;
  operation: string;
  /** Target bytes per second is (input bytes / median seconds); MB = 10^6 bytes. */
  deltaboxMBps: number;
  rdiffMBps: number | undefined;
  /** Throughput of each tool's fastest run: on a shared, noisy machine the least disturbed runs. */
  deltaboxBestMBps: number;
  rdiffBestMBps: number | undefined;
  /** Lowest acceptable deltabox/rdiff throughput ratio. */
  minRatio: number;
  deltaboxPeakRssKb: number | undefined;
  rdiffPeakRssKb: number | undefined;
}

export interface SizeRow {
  scenario: string;
  targetBytes: number;
  deltaboxSignatureMode: number;
  deltaboxByteExact: number;
  rdiff: number | undefined;
  /** Highest acceptable deltabox/rdiff size ratio, signature mode and byte-exact (undefined: no target). */
  maxRatioSignatureMode: number;
  maxRatioByteExact: number | undefined;
}

export interface Verdict {
  ratio: number | undefined;
  pass: boolean | undefined;
}

export function throughputVerdict(row: ThroughputRow): Verdict {
  if (row.rdiffMBps === undefined) return { ratio: undefined, pass: undefined };
  const ratio = row.deltaboxMBps / row.rdiffMBps;
  return { ratio, pass: ratio >= row.minRatio };
}

export function sizeVerdicts(row: SizeRow): { signatureMode: Verdict; byteExact: Verdict } {
  if (row.rdiff === undefined) return { signatureMode: { ratio: undefined, pass: undefined }, byteExact: { ratio: undefined, pass: undefined } };
  const sig = row.deltaboxSignatureMode / row.rdiff;
  const exact = row.deltaboxByteExact / row.rdiff;
  return {
    signatureMode: { ratio: sig, pass: sig <= row.maxRatioSignatureMode },
    byteExact: { ratio: exact, pass: row.maxRatioByteExact === undefined ? undefined : exact <= row.maxRatioByteExact },
  };
}

export function throughputTable(rows: readonly ThroughputRow[]): string {
  const head = ['scenario', 'operation', 'deltabox MB/s', 'rdiff MB/s', 'ratio', 'target', 'result', 'ratio of best runs', 'deltabox peak RSS', 'rdiff peak RSS'];
  const body = rows.map((r) => {
    const v = throughputVerdict(r);
    const best = r.rdiffBestMBps === undefined ? undefined : r.deltaboxBestMBps / r.rdiffBestMBps;
    return [r.scenario, r.operation, mbps(r.deltaboxMBps), r.rdiffMBps === undefined ? 'n/a' : mbps(r.rdiffMBps), ratio(v.ratio), `>= ${r.minRatio}x`, verdict(v.pass), ratio(best), rss(r.deltaboxPeakRssKb), rss(r.rdiffPeakRssKb)];
  });
  return markdownTable(head, body);
}

export function sizeTable(rows: readonly SizeRow[]): string {
  const head = ['scenario', 'target bytes', 'deltabox (signature)', 'deltabox (byte-exact)', 'rdiff', 'sig - rdiff', 'sig/rdiff', 'target', 'result', 'exact/rdiff', 'target', 'result'];
  const body = rows.map((r) => {
    const v = sizeVerdicts(r);
    return [
      r.scenario,
      int(r.targetBytes),
      int(r.deltaboxSignatureMode),
      int(r.deltaboxByteExact),
      r.rdiff === undefined ? 'n/a' : int(r.rdiff),
      r.rdiff === undefined ? 'n/a' : `${r.deltaboxSignatureMode >= r.rdiff ? '+' : ''}${int(r.deltaboxSignatureMode - r.rdiff)} B`,
      ratio(v.signatureMode.ratio, 4),
      `<= ${r.maxRatioSignatureMode}x`,
      verdict(v.signatureMode.pass),
      ratio(v.byteExact.ratio, 4),
      r.maxRatioByteExact === undefined ? '-' : `<= ${r.maxRatioByteExact}x`,
      verdict(v.byteExact.pass),
    ];
  });
  return markdownTable(head, body);
}

export function markdownTable(head: readonly string[], body: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n');
}

export function verdict(pass: boolean | undefined): string {
  return pass === undefined ? '-' : pass ? 'PASS' : 'FAIL';
}

/** MB/s with 3 significant-ish figures. */
export function mbps(v: number): string {
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

/** Size ratios get 4 decimals: a delta a few dozen bytes over rdiff's must not print as a failing "1.00x". */
export function ratio(v: number | undefined, decimals = 2): string {
  if (v === undefined) return 'n/a';
  return v >= 0.1 ? `${v.toFixed(decimals)}x` : `${v.toFixed(4)}x`;
}

/** An integer with thousands separators. */
export function int(v: number): string {
  return v.toLocaleString('en-US');
}

/** KiB -> "NN.N MB" (10^6 bytes), as the 150 MB target is written. */
export function rss(kb: number | undefined): string {
  return kb === undefined ? 'n/a' : `${((kb * 1024) / 1e6).toFixed(1)} MB`;
}
