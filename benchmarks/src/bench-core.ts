/**
 * Core benchmark: deltabox against rdiff (librsync) on seeded files — signature, delta (from the signature
 * alone and byte-exact) and patch throughput, delta sizes, per-operation peak RSS, and the peak RSS of the
 * whole chain on a 1 GiB file. Every operation runs in its own child process, file to file, alternating the
 * two tools, median of --runs (3). Prints markdown tables; writes results/core-latest.json. `--quick`: 32 MiB
 * and 128 MiB instead of 256 MiB and 1 GiB. Then the real-data section (src/lib/real-data-section.ts): real
 * pairs against rdiff, xdelta3 and zstd, results/core-real-latest.json. `--only synthetic|real` picks sections.
 * Run compiled (`pnpm bench:core`): tsx halves the hot loop's speed.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { rss, sizeTable, sizeVerdicts, throughputTable, throughputVerdict, verdict, type SizeRow, type ThroughputRow } from './lib/core-report.js';
import type { WorkerArgs, WorkerOp, WorkerReport } from './lib/deltabox-worker.js';
import { rssMethod, runMeasured } from './lib/measured-process.js';
import { parseFlagsOrExit, parseIntegerFlag, parseListFlag, runnerArgs } from './lib/flags.js';
import { detectRdiff, readRdiffSignatureHeader, type RdiffPeer } from './lib/rdiff-peer.js';
import { runRealDataSection } from './lib/real-data-section.js';
import { DEFAULT_DATA_DIR, PAIR_IDS } from './lib/real-pairs.js';
import { BENCHMARKS_DIR, collectRunInfo, median, writeResult } from './lib/run-info.js';
import { hashFile, planScatteredEdits, writeAppendedFile, writeEditedFile, writeRandomFile, type Edit, type WrittenFile } from './lib/seeded-data.js';

const MiB = 1 << 20;
const SEED = 'deltabox-core-bench-v1';
const WORKER = join(BENCHMARKS_DIR, 'dist', 'lib', 'deltabox-worker.js');
/** Peak RSS allowed for signature+delta+patch on the large file (10^6-byte MB, as the target is stated). */
const RSS_LIMIT_BYTES = 150e6;

/** Sections of the benchmark, for --only. */
const SECTIONS = ['synthetic', 'real'] as const;
/** The real pairs of --quick: the two small ones, measured once, so the quick mode stays near a minute once the pairs are cached. */
const QUICK_PAIRS = ['text-paragraphs', 'binary-rebuild'];

const flags = parseFlagsOrExit('bench-core', () => {
  const { values } = parseArgs({
    args: runnerArgs(),
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      keep: { type: 'boolean', default: false },
      only: { type: 'string' },
      pairs: { type: 'string' },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    quick: values.quick === true,
    keep: values.keep === true,
    runs: parseIntegerFlag('--runs', values.runs, 1, 99) ?? 3,
    /** The real pairs take seconds per tool and run (zstd -19 above all): --quick measures them once. */
    realRuns: parseIntegerFlag('--runs', values.runs, 1, 99) ?? (values.quick ? 1 : 3),
    sections: parseListFlag('--only', values.only, SECTIONS) ?? [...SECTIONS],
    pairs: parseListFlag('--pairs', values.pairs, PAIR_IDS) ?? (values.quick ? QUICK_PAIRS : undefined),
    dataDir: values['data-dir'],
  };
});
const quick = flags.quick;
const runs = flags.runs;
const basisLength = (quick ? 32 : 256) * MiB;
const largeLength = (quick ? 128 : 1024) * MiB;

/** One timed run of one tool. `ms` is the operation alone (deltabox: inside the child, after module load). */
interface Sample {
  ms: number;
  processWallMs: number;
  peakRssKb: number | undefined;
  result?: Record<string, unknown>;
}

/** All runs of one tool doing one operation on one scenario. */
interface Series {
  scenario: string;
  operation: string;
  tool: 'deltabox' | 'rdiff';
  inputBytes: number;
  samples: Sample[];
}

interface Scenario {
  name: string;
  /** maxByteExactSizeRatio: the 0.1x-of-rdiff target applies where the changed bytes are few (scattered edits);
   *  an appended MiB of random bytes, or an unrelated file, is its own floor in any mode. */
  description: string;
  target: WrittenFile;
  edits?: Edit[];
  minDeltaRatio: number;
  maxByteExactSizeRatio: number | undefined;
}

const series = new Map<string, Series>();

function record(scenario: string, operation: string, tool: Series['tool'], inputBytes: number, sample: Sample): Sample {
  const key = `${scenario}|${operation}|${tool}`;
  let s = series.get(key);
  if (!s) series.set(key, (s = { scenario, operation, tool, inputBytes, samples: [] }));
  s.samples.push(sample);
  return sample;
}

function summary(scenario: string, operation: string, tool: Series['tool']) {
  const s = series.get(`${scenario}|${operation}|${tool}`);
  if (!s) return undefined;
  const ms = median(s.samples.map((x) => x.ms));
  const rssValues = s.samples.map((x) => x.peakRssKb).filter((x): x is number => x !== undefined);
  const bestMs = Math.min(...s.samples.map((x) => x.ms));
  return { mbPerS: s.inputBytes / 1e6 / (ms / 1000), bestMBps: s.inputBytes / 1e6 / (bestMs / 1000), medianMs: ms, peakRssKb: rssValues.length ? Math.max(...rssValues) : undefined };
}

/** Outputs are deleted before each run: rewriting an existing file makes ext4 flush it on close (auto_da_alloc). */
function outputOf(op: WorkerOp, args: WorkerArgs): string[] {
  if (op === 'signature') return [args.signature];
  if (op === 'delta') return [args.delta ?? ''];
  if (op === 'patch') return [args.out ?? ''];
  return [args.signature, args.delta ?? '', `${args.delta ?? ''}.exact`, args.out ?? ''];
}

async function deltabox(op: WorkerOp, args: WorkerArgs): Promise<Sample> {
  for (const path of outputOf(op, args)) if (path !== '') rmSync(path, { force: true });
  const run = await runMeasured(process.execPath, [WORKER, op, JSON.stringify(args)]);
  const report = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as WorkerReport;
  // Timing core through a TS loader or its src condition would halve the hot loop: refuse to measure that.
  check(report.coreModule.endsWith('/packages/core/dist/index.js'), `@deltabox/core resolves to its built dist (got ${report.coreModule})`);
  return { ms: report.elapsedMs, processWallMs: run.wallMs, peakRssKb: run.peakRssKb ?? report.maxRssKb, result: report.result };
}

/** rdiff's output is its last argument (signature, delta and patch alike). */
async function rdiffRun(peer: RdiffPeer, args: string[]): Promise<Sample> {
  rmSync(args[args.length - 1]!, { force: true });
  const run = await runMeasured(peer.path!, ['--force', ...args]);
  return { ms: run.wallMs, processWallMs: run.wallMs, peakRssKb: run.peakRssKb };
}

/** Runs the steps of one round in order on even rounds and reversed on odd ones, so neither tool always goes first. */
async function alternate(round: number, steps: (() => Promise<unknown>)[]): Promise<void> {
  for (const step of round % 2 === 0 ? steps : [...steps].reverse()) await step();
}

function log(line: string): void {
  process.stderr.write(`[bench-core] ${line}\n`);
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`verification failed: ${what}`);
}

async function syntheticSection(): Promise<void> {
  const info = collectRunInfo();
  const peer = detectRdiff();
  const hasRdiff = peer.available;
  log(`${quick ? 'quick' : 'full'} mode, ${runs} runs, basis ${basisLength / MiB} MiB, large ${largeLength / MiB} MiB, rdiff: ${hasRdiff ? peer.version : `UNAVAILABLE (${peer.note})`}`);
  const dir = mkdtempSync(join(tmpdir(), 'deltabox-bench-core-'));
  const p = (name: string) => join(dir, name);
  try {
    log('writing seeded inputs');
    const basis = writeRandomFile(p('basis'), basisLength, `${SEED}/basis`);
    const edits = planScatteredEdits(basisLength, 10, `${SEED}/edits`);
    const scenarios: Scenario[] = [
      { name: 'scattered-edits', description: '10 small inserts, deletes and overwrites spread over the file', target: writeEditedFile(basis.path, basisLength, p('t-scattered'), edits, `${SEED}/edit-bytes`), edits, minDeltaRatio: 1.5, maxByteExactSizeRatio: 0.1 },
      { name: 'append-1MiB', description: '1 MiB appended', target: writeAppendedFile(basis.path, basisLength, p('t-append'), MiB, `${SEED}/append`), minDeltaRatio: 1.5, maxByteExactSizeRatio: undefined },
      { name: 'unrelated', description: 'a fully different file of the same size: every offset rolls', target: writeRandomFile(p('t-unrelated'), basisLength, `${SEED}/unrelated`), minDeltaRatio: 2, maxByteExactSizeRatio: undefined },
    ];

    log('signatures');
    let deltaboxBlockLength = 0;
    for (let round = 0; round < runs; round++) {
      await alternate(round, [
        async () => {
          const s = record('basis', 'signature', 'deltabox', basisLength, await deltabox('signature', { basis: basis.path, signature: p('sig.dbx') }));
          deltaboxBlockLength = Number(s.result?.['blockLength']);
        },
        async () => hasRdiff && record('basis', 'signature', 'rdiff', basisLength, await rdiffRun(peer, ['signature', basis.path, p('sig.rd')])),
      ]);
    }
    const rdiffSignature = hasRdiff ? readRdiffSignatureHeader(p('sig.rd')) : undefined;
    const signatureBytes = { deltabox: statSync(p('sig.dbx')).size, rdiff: hasRdiff ? statSync(p('sig.rd')).size : undefined };

    const deltaBytes: Record<string, { signatureMode: number; byteExact: number; rdiff: number | undefined; deltaboxStats: unknown; deltaboxExactStats: unknown }> = {};
    for (const sc of scenarios) {
      log(`scenario ${sc.name}: deltas`);
      const t = sc.target;
      const [dSig, dExact, dRd] = [p(`d-${sc.name}.dbx`), p(`d-${sc.name}.dbx-exact`), p(`d-${sc.name}.rd`)];
      for (let round = 0; round < runs; round++) {
        await alternate(round, [
          async () => record(sc.name, 'delta (signature)', 'deltabox', t.length, await deltabox('delta', { basis: basis.path, signature: p('sig.dbx'), target: t.path, delta: dSig })),
          async () => hasRdiff && record(sc.name, 'delta', 'rdiff', t.length, await rdiffRun(peer, ['delta', p('sig.rd'), t.path, dRd])),
          async () => record(sc.name, 'delta (byte-exact)', 'deltabox', t.length, await deltabox('delta', { basis: basis.path, signature: p('sig.dbx'), target: t.path, delta: dExact, exact: true })),
        ]);
      }
      const last = (op: string) => series.get(`${sc.name}|${op}|deltabox`)!.samples.at(-1)!.result;
      deltaBytes[sc.name] = {
        signatureMode: statSync(dSig).size,
        byteExact: statSync(dExact).size,
        rdiff: hasRdiff ? statSync(dRd).size : undefined,
        deltaboxStats: last('delta (signature)'),
        deltaboxExactStats: last('delta (byte-exact)'),
      };

      log(`scenario ${sc.name}: patches`);
      for (let round = 0; round < runs; round++) {
        await alternate(round, [
          async () => {
            const s = record(sc.name, 'patch (signature-mode delta)', 'deltabox', t.length, await deltabox('patch', { basis: basis.path, signature: '', delta: dSig, out: p('out.dbx') }));
            check(s.result?.['targetHash'] === t.sha256, `deltabox patch of ${sc.name} (signature mode) reproduces the target`);
          },
          async () => {
            if (!hasRdiff) return;
            record(sc.name, 'patch', 'rdiff', t.length, await rdiffRun(peer, ['patch', basis.path, dRd, p('out.rd')]));
            if (round === 0) check(hashFile(p('out.rd')).sha256 === t.sha256, `rdiff patch of ${sc.name} reproduces the target`);
          },
          async () => {
            const s = record(sc.name, 'patch (byte-exact delta)', 'deltabox', t.length, await deltabox('patch', { basis: basis.path, signature: '', delta: dExact, out: p('out.dbx-exact') }));
            check(s.result?.['targetHash'] === t.sha256, `deltabox patch of ${sc.name} (byte-exact) reproduces the target`);
          },
        ]);
      }
      rmSync(p('out.dbx'), { force: true });
      rmSync(p('out.dbx-exact'), { force: true });
      rmSync(p('out.rd'), { force: true });
    }

    for (const sc of scenarios) rmSync(sc.target.path);
    rmSync(basis.path);
    const large = await largeFileRss(p, peer);

    report({ info, peer, basis, scenarios, deltaboxBlockLength, rdiffSignature, signatureBytes, deltaBytes, large });
  } finally {
    if (flags.keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** Peak RSS of deltabox's whole chain in one process on the large file, and of each rdiff step. */
async function largeFileRss(p: (name: string) => string, peer: RdiffPeer) {
  log(`large file (${largeLength / MiB} MiB): writing`);
  const basis = writeRandomFile(p('L-basis'), largeLength, `${SEED}/large-basis`);
  const target = writeEditedFile(basis.path, largeLength, p('L-target'), planScatteredEdits(largeLength, 10, `${SEED}/large-edits`), `${SEED}/large-edit-bytes`);
  log('large file: deltabox signature + delta (both modes) + patch in one process');
  const chain = await deltabox('chain', { basis: basis.path, target: target.path, signature: p('L-sig.dbx'), delta: p('L-d.dbx'), out: p('L-out.dbx') });
  const patched = (chain.result?.['patch'] as { targetHash?: string } | undefined)?.targetHash;
  check(patched === target.sha256, 'deltabox patch of the large file reproduces the target');
  rmSync(p('L-out.dbx'));
  const rdiff: Record<string, Sample> = {};
  if (peer.available) {
    log('large file: rdiff signature, delta, patch');
    rdiff['signature'] = await rdiffRun(peer, ['signature', basis.path, p('L-sig.rd')]);
    rdiff['delta'] = await rdiffRun(peer, ['delta', p('L-sig.rd'), target.path, p('L-d.rd')]);
    rdiff['patch'] = await rdiffRun(peer, ['patch', basis.path, p('L-d.rd'), p('L-out.rd')]);
    rmSync(p('L-out.rd'));
  }
  const rdiffPeaks = Object.values(rdiff).map((s) => s.peakRssKb).filter((x): x is number => x !== undefined);
  return {
    fileBytes: largeLength,
    scenario: 'scattered-edits (10 edits)',
    deltabox: { peakRssKb: chain.peakRssKb, seconds: chain.ms / 1000, result: chain.result },
    rdiff: peer.available ? { peakRssKb: rdiffPeaks.length ? Math.max(...rdiffPeaks) : undefined, steps: rdiff } : undefined,
    pass: chain.peakRssKb === undefined ? undefined : chain.peakRssKb * 1024 < RSS_LIMIT_BYTES,
  };
}

type ReportInput = {
  info: ReturnType<typeof collectRunInfo>;
  peer: RdiffPeer;
  basis: WrittenFile;
  scenarios: Scenario[];
  deltaboxBlockLength: number;
  rdiffSignature: ReturnType<typeof readRdiffSignatureHeader> | undefined;
  signatureBytes: { deltabox: number; rdiff: number | undefined };
  deltaBytes: Record<string, { signatureMode: number; byteExact: number; rdiff: number | undefined; deltaboxStats: unknown; deltaboxExactStats: unknown }>;
  large: Awaited<ReturnType<typeof largeFileRss>>;
};

function throughputRows(scenarios: Scenario[]): ThroughputRow[] {
  const row = (scenario: string, operation: string, rdiffOperation: string, minRatio: number): ThroughputRow => {
    const d = summary(scenario, operation, 'deltabox')!;
    const r = summary(scenario, rdiffOperation, 'rdiff');
    return { scenario, operation, deltaboxMBps: d.mbPerS, rdiffMBps: r?.mbPerS, deltaboxBestMBps: d.bestMBps, rdiffBestMBps: r?.bestMBps, minRatio, deltaboxPeakRssKb: d.peakRssKb, rdiffPeakRssKb: r?.peakRssKb };
  };
  const rows = [row('basis', 'signature', 'signature', 1.5)];
  for (const sc of scenarios) {
    rows.push(row(sc.name, 'delta (signature)', 'delta', sc.minDeltaRatio));
    rows.push(row(sc.name, 'delta (byte-exact)', 'delta', sc.minDeltaRatio));
    rows.push(row(sc.name, 'patch (signature-mode delta)', 'patch', 1));
    rows.push(row(sc.name, 'patch (byte-exact delta)', 'patch', 1));
  }
  return rows;
}

function report(r: ReportInput): void {
  const tRows = throughputRows(r.scenarios);
  const sRows: SizeRow[] = r.scenarios.map((sc) => ({
    scenario: sc.name,
    targetBytes: sc.target.length,
    deltaboxSignatureMode: r.deltaBytes[sc.name]!.signatureMode,
    deltaboxByteExact: r.deltaBytes[sc.name]!.byteExact,
    rdiff: r.deltaBytes[sc.name]!.rdiff,
    maxRatioSignatureMode: 1,
    maxRatioByteExact: sc.maxByteExactSizeRatio,
  }));
  const rdiffLine = r.peer.available ? `${r.peer.version} (${r.peer.path}, ${r.peer.note})` : `**UNAVAILABLE: ${r.peer.note}** — no rdiff figures, ratios n/a`;
  const largeLine =
    `Peak RSS, deltabox signature + delta (signature mode and byte-exact) + patch in one process, ${r.large.fileBytes / MiB} MiB file with 10 edits: ` +
    `**${rss(r.large.deltabox.peakRssKb)}** (target < 150 MB: ${verdict(r.large.pass)}); rdiff, worst of its three steps: ${rss(r.large.rdiff?.peakRssKb)}`;
  const out = [
    `## deltabox core vs rdiff — ${quick ? 'quick' : 'full'} mode, basis ${r.basis.length / MiB} MiB, median of ${runs}`,
    '',
    `- ${r.info.date}, Node ${r.info.node}, ${r.info.cpuModel} x${r.info.cpuCount}, commit ${r.info.gitCommit.slice(0, 12)}${r.info.coreDirty.length ? ` (packages/core has uncommitted changes; core src sha256 ${r.info.coreSourceHash.slice(0, 12)})` : ''}`,
    `- rdiff: ${rdiffLine}`,
    `- block length: deltabox ${r.deltaboxBlockLength} B (sqrt rule), rdiff ${r.rdiffSignature ? `${r.rdiffSignature.blockLength} B (its default; ${r.rdiffSignature.kind}, ${r.rdiffSignature.strongLength}-byte strong sums)` : 'n/a'}; signature bytes: deltabox ${r.signatureBytes.deltabox}, rdiff ${r.signatureBytes.rdiff ?? 'n/a'}`,
    `- MB = 10^6 bytes of input (signature: basis; delta and patch: target). deltabox times are the operation inside its child process (Node start-up and module load excluded, recorded in the JSON); rdiff times are its whole process. Peak RSS per operation (${rssMethod() === 'gnu-time' ? '/usr/bin/time -f %M' : 'VmHWM sampling'}), worst of the runs. PASS/FAIL is on the medians; "ratio of best runs" compares each tool's fastest run, the least disturbed on a shared machine.`,
    '',
    throughputTable(tRows),
    '',
    sizeTable(sRows),
    '',
    largeLine,
  ].join('\n');
  process.stdout.write(`${out}\n`);
  const failures = [
    ...tRows.filter((x) => throughputVerdict(x).pass === false).map((x) => `${x.scenario} ${x.operation} throughput`),
    ...sRows.flatMap((x) => {
      const v = sizeVerdicts(x);
      return [v.signatureMode.pass === false ? `${x.scenario} delta size (signature mode)` : [], v.byteExact.pass === false ? `${x.scenario} delta size (byte-exact)` : []].flat();
    }),
    ...(r.large.pass === false ? ['peak RSS on the large file'] : []),
  ];
  process.stdout.write(`\n${failures.length ? `Targets missed: ${failures.join('; ')}` : 'All targets met.'}\n`);

  const path = writeResult('core-latest.json', {
    benchmark: 'core',
    mode: quick ? 'quick' : 'full',
    runs,
    ...r.info,
    rdiff: r.peer,
    rssMethod: rssMethod(),
    sizes: { basisBytes: r.basis.length, largeFileBytes: r.large.fileBytes, ioChunkBytes: MiB },
    blockLength: { deltabox: r.deltaboxBlockLength, rdiff: r.rdiffSignature?.blockLength },
    rdiffSignature: r.rdiffSignature,
    signatureBytes: r.signatureBytes,
    scenarios: r.scenarios.map((sc) => ({ name: sc.name, description: sc.description, targetBytes: sc.target.length, targetSha256: sc.target.sha256, edits: sc.edits, deltaBytes: r.deltaBytes[sc.name] })),
    throughput: tRows.map((x) => ({ ...x, ...throughputVerdict(x) })),
    deltaSize: sRows.map((x) => ({ ...x, wireBytesPerTargetByte: { deltaboxSignatureMode: x.deltaboxSignatureMode / x.targetBytes, deltaboxByteExact: x.deltaboxByteExact / x.targetBytes, rdiff: x.rdiff === undefined ? undefined : x.rdiff / x.targetBytes }, verdicts: sizeVerdicts(x) })),
    largeFileRss: r.large,
    failures,
    raw: [...series.values()],
  });
  log(`wrote ${path}`);
}

async function main(): Promise<void> {
  if (flags.sections.includes('synthetic')) await syntheticSection();
  if (flags.sections.includes('real')) {
    const { missed, unjudged } = await runRealDataSection({ dataDir: flags.dataDir, pairIds: flags.pairs, runs: flags.realRuns, keep: flags.keep, mode: quick ? 'quick' : 'full', log });
    const caveat = unjudged ? ' Some targets could not be judged: a peer or a tool is missing (see above).' : '';
    process.stdout.write(`\n${missed.length ? `Real-data targets missed: ${missed.join('; ')}.` : 'Real data: no target missed.'}${caveat}\n`);
  }
}

await main();
