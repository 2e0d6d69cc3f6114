/**
 * The real-data report's rules: ratios against xdelta3 -9 and rdiff, issue 10's verdicts for the byte-exact mode
 * (size, speed, the rdiff rule on sparse pairs only, RSS against the basis size), and how a missing peer, a failed
 * tool and a broken round trip show in the table.
 */
import t from 'tap';
import type { RealDataResults, ToolResult, ToolSummary } from '../src/lib/real-data-bench.js';
import type { PeerName } from '../src/lib/real-delta-tools.js';
import type { RealPair } from '../src/lib/real-pairs.js';
import { exactVerdicts, realDataTable } from '../src/lib/real-report.js';

const pair = (id: string, basisBytes = 20e6): RealPair => ({ id, description: id, recipe: `${id}:1`, basis: 'b', target: 't', basisBytes, targetBytes: 20e6, basisSha256: '', targetSha256: '', source: {} });

function summary(deltaBytes: number, deltaMBps: number, rssMb = 50, roundTrip = true): ToolSummary {
  return { deltaBytes, deltaMs: 20e6 / 1e3 / deltaMBps, deltaMBps, bestDeltaMBps: deltaMBps, deltaPeakRssKb: (rssMb * 1e6) / 1024, applyMBps: 100, signatureMs: undefined, roundTrip, sizeVaries: false };
}

function result(p: string, tool: string, peer: PeerName, s: ToolSummary | undefined, error?: string): ToolResult {
  return { pair: p, tool, label: tool, peer, commands: { delta: '', apply: '' }, samples: error ? [{ run: 0, error }] : [], summary: s };
}

const available = { available: true, note: '' };

t.test('the byte-exact verdicts follow issue 10 targets', async (t) => {
  const r: RealDataResults = {
    peers: { deltabox: available, rdiff: available, xdelta3: available, zstd: available },
    results: [
      result('npm-patch-release', 'deltabox-exact', 'deltabox', summary(1500, 50, 150)),
      result('npm-patch-release', 'deltabox-signature', 'deltabox', summary(5000, 60)),
      result('npm-patch-release', 'xdelta3-9', 'xdelta3', summary(1000, 50)),
      result('npm-patch-release', 'rdiff', 'rdiff', { ...summary(10000, 100), applyMBps: 50 }),
      result('text', 'deltabox-exact', 'deltabox', summary(1501, 49, 121)),
      result('text', 'xdelta3-9', 'xdelta3', summary(1000, 50)),
      result('text', 'rdiff', 'rdiff', summary(10000, 100)),
    ],
  };
  const [sparse, dense] = exactVerdicts(r, [pair('npm-patch-release'), pair('text')]);
  t.match(sparse, { sizeVsXdelta3: 1.5, sizePass: true, speedVsXdelta3: 1, speedVsXdelta3Pass: true, speedVsRdiff: 0.5, speedVsRdiffPass: false, rssPass: false, applyVsRdiff: 2, applyPass: true, signatureSizeVsRdiff: 0.5 });
  t.match(dense, { sizePass: false, speedVsXdelta3Pass: false, speedVsRdiff: 0.49, speedVsRdiffPass: undefined, rssPass: false, applyVsRdiff: 1, applyPass: true, signatureSizeVsRdiff: undefined });
  const roomy = exactVerdicts(r, [pair('text', 30e6)])[0]!;
  t.equal(roomy.rssPass, true, 'peak RSS is judged against the basis size plus 100 MB');
});

t.test('the table says when a peer is missing, a tool failed or a round trip broke', async (t) => {
  const r: RealDataResults = {
    peers: { deltabox: available, rdiff: available, xdelta3: { available: false, note: 'not installed' }, zstd: available },
    results: [
      result('p', 'deltabox-exact', 'deltabox', summary(2000, 40)),
      result('p', 'rdiff', 'rdiff', summary(8000, 80, 2, false)),
      result('p', 'xdelta3-9', 'xdelta3', undefined),
      result('p', 'zstd-19', 'zstd', undefined, 'zstd exited with 1: out of memory'),
    ],
  };
  const table = realDataTable(r, [pair('p')]).split('\n');
  t.match(table[2], /\| p \| deltabox-exact \| 2,000 \| n\/a \| 40\.0 \| 0\.50x \| n\/a \|/);
  t.match(table[3], /\*\*FAIL\*\* \|$/);
  t.match(table[4], /\*\*UNAVAILABLE\*\* \(xdelta3 missing\)/);
  t.match(table[5], /\*\*FAILED\*\*: zstd exited with 1: out of memory/);
});
