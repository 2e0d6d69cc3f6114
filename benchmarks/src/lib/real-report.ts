/**
 * The real-data section's report: one markdown table (every tool on every pair: delta size and its ratio to
 * xdelta3 -9, delta-step MB/s and its ratios to rdiff and xdelta3 -9, peak RSS, apply MB/s, round trip), and the
 * byte-exact mode's verdicts against issue 10's targets. Formatting and target rules only.
 */
import { int, markdownTable, mbps, ratio, rss, verdict } from './core-report.js';
import type { RealDataResults, ToolResult } from './real-data-bench.js';
import type { RealPair } from './real-pairs.js';

/** Pairs whose edits are sparse: there the byte-exact delta must also be at least as fast as rdiff (issue 10). */
export const SPARSE_PAIRS: readonly string[] = ['npm-patch-release'];
/** Byte-exact delta size allowed, as a multiple of xdelta3 -9's. */
const MAX_SIZE_VS_XDELTA3 = 1.5;
/** Peak RSS allowed above the basis size, bytes (10^6-byte MB as the target is stated). */
const RSS_HEADROOM_BYTES = 100e6;

/** Verdicts of the byte-exact mode on one pair; `undefined` where a figure is missing. */
export interface ExactVerdicts {
  pair: string;
  sizeVsXdelta3: number | undefined;
  sizePass: boolean | undefined;
  speedVsXdelta3: number | undefined;
  speedVsXdelta3Pass: boolean | undefined;
  speedVsRdiff: number | undefined;
  /** Only judged on sparse pairs. */
  speedVsRdiffPass: boolean | undefined;
  peakRssKb: number | undefined;
  rssPass: boolean | undefined;
  /** Applying the byte-exact delta (deltabox patch, SHA-256 checked) against rdiff patch: issue 10 wants >= 1x. */
  applyVsRdiff: number | undefined;
  applyPass: boolean | undefined;
  /** Signature-only delta size / rdiff's, reported without a target. */
  signatureSizeVsRdiff: number | undefined;
}

function find(r: RealDataResults, pair: string, tool: string): ToolResult | undefined {
  return r.results.find((x) => x.pair === pair && x.tool === tool);
}

const div = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
const pass = (value: number | undefined, ok: (v: number) => boolean) => (value === undefined ? undefined : ok(value));

/** The byte-exact mode against issue 10's targets, per pair. */
export function exactVerdicts(r: RealDataResults, pairs: readonly RealPair[]): ExactVerdicts[] {
  return pairs.map((pair) => {
    const exact = find(r, pair.id, 'deltabox-exact')?.summary;
    const xdelta = find(r, pair.id, 'xdelta3-9')?.summary;
    const rdiff = find(r, pair.id, 'rdiff')?.summary;
    const signature = find(r, pair.id, 'deltabox-signature')?.summary;
    const sizeVsXdelta3 = div(exact?.deltaBytes, xdelta?.deltaBytes);
    const speedVsXdelta3 = div(exact?.deltaMBps, xdelta?.deltaMBps);
    const speedVsRdiff = div(exact?.deltaMBps, rdiff?.deltaMBps);
    const peakRssKb = exact?.deltaPeakRssKb;
    const applyVsRdiff = div(exact?.applyMBps, rdiff?.applyMBps);
    return {
      pair: pair.id,
      sizeVsXdelta3,
      sizePass: pass(sizeVsXdelta3, (v) => v <= MAX_SIZE_VS_XDELTA3),
      speedVsXdelta3,
      speedVsXdelta3Pass: pass(speedVsXdelta3, (v) => v >= 1),
      speedVsRdiff,
      speedVsRdiffPass: SPARSE_PAIRS.includes(pair.id) ? pass(speedVsRdiff, (v) => v >= 1) : undefined,
      peakRssKb,
      rssPass: pass(peakRssKb, (kb) => kb * 1024 <= pair.basisBytes + RSS_HEADROOM_BYTES),
      applyVsRdiff,
      applyPass: pass(applyVsRdiff, (v) => v >= 1),
      signatureSizeVsRdiff: div(signature?.deltaBytes, rdiff?.deltaBytes),
    };
  });
}

/** The one table: a row per pair and tool. */
export function realDataTable(r: RealDataResults, pairs: readonly RealPair[]): string {
  const head = ['pair', 'tool', 'delta bytes', 'size / xdelta3 -9', 'delta MB/s', 'speed / rdiff', 'speed / xdelta3 -9', 'peak RSS (delta)', 'apply MB/s', 'round trip'];
  const body: string[][] = [];
  for (const pair of pairs) {
    const xdelta = find(r, pair.id, 'xdelta3-9')?.summary;
    const rdiff = find(r, pair.id, 'rdiff')?.summary;
    for (const t of r.results.filter((x) => x.pair === pair.id)) {
      const s = t.summary;
      if (!r.peers[t.peer].available) {
        body.push([pair.id, t.label, `**UNAVAILABLE** (${t.peer} missing)`, '', '', '', '', '', '', '']);
        continue;
      }
      if (!s) {
        body.push([pair.id, t.label, `**FAILED**: ${t.samples.find((x) => x.error)?.error ?? 'no run finished'}`, '', '', '', '', '', '', '']);
        continue;
      }
      body.push([
        pair.id,
        t.label,
        `${int(s.deltaBytes)}${s.sizeVaries ? ' (varies)' : ''}`,
        ratio(div(s.deltaBytes, xdelta?.deltaBytes)),
        mbps(s.deltaMBps),
        ratio(div(s.deltaMBps, rdiff?.deltaMBps)),
        ratio(div(s.deltaMBps, xdelta?.deltaMBps)),
        rss(s.deltaPeakRssKb),
        s.applyMBps === undefined ? 'n/a' : mbps(s.applyMBps),
        s.roundTrip ? 'ok' : '**FAIL**',
      ]);
    }
  }
  return markdownTable(head, body);
}

/** Issue 10's targets for the byte-exact mode, PASS/FAIL per pair. */
export function exactVerdictTable(verdicts: readonly ExactVerdicts[]): string {
  const head = ['pair', `exact size / xdelta3 -9 (<= ${MAX_SIZE_VS_XDELTA3}x)`, 'exact speed / xdelta3 -9 (>= 1x)', 'exact speed / rdiff (>= 1x, sparse pairs)', 'exact peak RSS (<= basis + 100 MB)', 'apply / rdiff patch (>= 1x)', 'signature-only size / rdiff'];
  const body = verdicts.map((v) => [
    v.pair,
    `${ratio(v.sizeVsXdelta3)} ${verdict(v.sizePass)}`,
    `${ratio(v.speedVsXdelta3)} ${verdict(v.speedVsXdelta3Pass)}`,
    `${ratio(v.speedVsRdiff)} ${verdict(v.speedVsRdiffPass)}`,
    `${rss(v.peakRssKb)} ${verdict(v.rssPass)}`,
    `${ratio(v.applyVsRdiff)} ${verdict(v.applyPass)}`,
    ratio(v.signatureSizeVsRdiff, 3),
  ]);
  return markdownTable(head, body);
}
