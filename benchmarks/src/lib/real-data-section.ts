/**
 * The real-data section of `pnpm bench:core`, end to end: build or reuse the real pairs, measure every tool on
 * them, print the table and the byte-exact verdicts, and write results/core-real-latest.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { rssMethod } from './measured-process.js';
import { runRealDataBench } from './real-data-bench.js';
import { ensureRealPairs } from './real-pairs.js';
import { exactVerdicts, exactVerdictTable, realDataTable } from './real-report.js';
import { collectRunInfo, writeResult } from './run-info.js';

export interface RealSectionOptions {
  dataDir: string;
  /** Pair ids; all pairs when undefined. */
  pairIds: readonly string[] | undefined;
  runs: number;
  keep: boolean;
  mode: 'quick' | 'full';
  log: (line: string) => void;
}

/** What the section concluded: targets missed, and whether some could not be judged (a peer or a tool missing). */
export interface RealSectionOutcome {
  missed: string[];
  unjudged: boolean;
}

/** Runs the section end to end. */
export async function runRealDataSection(o: RealSectionOptions): Promise<RealSectionOutcome> {
  const info = collectRunInfo();
  // Shared machines: the load average before and after says how far to trust absolute MB/s (ratios fare better).
  const loadBefore = loadavg()[0]!;
  const { pairs, skipped } = await ensureRealPairs(o.dataDir, o.pairIds, o.log);
  const work = mkdtempSync(join(tmpdir(), 'deltabox-bench-real-'));
  try {
    const r = await runRealDataBench(pairs, o.runs, work, o.log);
    const verdicts = exactVerdicts(r, pairs);
    const load = { oneMinuteBefore: loadBefore, oneMinuteAfter: loadavg()[0]!, cpuCount: cpus().length };
    const missing = Object.entries(r.peers).filter(([, p]) => !p.available);
    const out = [
      `## Real data: deltabox vs rdiff, xdelta3, zstd — ${o.mode} mode, median of ${o.runs}`,
      '',
      `- ${info.date}, Node ${info.node}, ${info.cpuModel} x${info.cpuCount}, commit ${info.gitCommit.slice(0, 12)}${info.coreDirty.length ? ` (packages/core has uncommitted changes; core src sha256 ${info.coreSourceHash.slice(0, 12)})` : ''}, load average ${load.oneMinuteBefore.toFixed(1)} -> ${load.oneMinuteAfter.toFixed(1)} on ${load.cpuCount} CPUs`,
      ...Object.entries(r.peers).map(([name, p]) => `- ${name}: ${p.available ? `${p.version} (${p.note})` : `**UNAVAILABLE: ${p.note}**, its rows and ratios are n/a`}`),
      ...pairs.map((p) => `- \`${p.id}\`: ${p.basisBytes.toLocaleString('en-US')} -> ${p.targetBytes.toLocaleString('en-US')} B, ${p.description}`),
      ...skipped.map((p) => `- \`${p.id}\`: **NOT BUILT, not measured**: ${p.reason}`),
      `- Every figure is a whole process (start-up included), median of the runs; the tools' order rotates each run. delta MB/s = target bytes (10^6) / time of the delta step alone (signatures are made beforehand, timed apart in the JSON). Peak RSS of the delta step (${rssMethod() === 'gnu-time' ? '/usr/bin/time' : 'VmHWM sampling'}), worst run. Round trip: the delta applied to the basis (deltabox patch, rdiff patch, xdelta3 -d, zstd -d --patch-from) gives the target's SHA-256 in every run.`,
      '',
      realDataTable(r, pairs),
      '',
      'Byte-exact mode against issue 10\'s targets:',
      '',
      exactVerdictTable(verdicts),
    ];
    if (missing.length) out.push('', `**Missing peers: ${missing.map(([n]) => n).join(', ')}** (see above).`);
    process.stdout.write(`${out.join('\n')}\n`);
    const failures = verdicts.flatMap((v) => [
      v.sizePass === false ? `${v.pair} byte-exact size` : [],
      v.speedVsXdelta3Pass === false ? `${v.pair} byte-exact speed vs xdelta3` : [],
      v.speedVsRdiffPass === false ? `${v.pair} byte-exact speed vs rdiff` : [],
      v.rssPass === false ? `${v.pair} byte-exact peak RSS` : [],
      v.applyPass === false ? `${v.pair} patch speed vs rdiff` : [],
    ].flat());
    const roundTripFailures = r.results.filter((x) => x.summary && !x.summary.roundTrip).map((x) => `${x.pair} ${x.tool} round trip`);
    const path = writeResult('core-real-latest.json', { benchmark: 'core-real-data', mode: o.mode, runs: o.runs, ...info, load, rssMethod: rssMethod(), peers: r.peers, pairs, skippedPairs: skipped, verdicts, failures: [...roundTripFailures, ...failures], results: r.results });
    o.log(`wrote ${path}`);
    const unjudged = verdicts.some((v) => v.sizePass === undefined || v.speedVsXdelta3Pass === undefined || v.rssPass === undefined);
    return { missed: [...skipped.map((p) => `${p.id} not built`), ...roundTripFailures, ...failures], unjudged };
  } finally {
    if (o.keep) o.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}
