/**
 * `pnpm bench`: the sync benchmark. deltabox with deltas, deltabox forced to full uploads and rsync (pushing to
 * its daemon) sync the same seeded scenarios in the same run, alternating; a byte-counting proxy in front of each
 * server measures the wire. Also: propagation latency, the scale curve, a 10 Mbit/s link, and two devices in
 * two-way sync (latency device to device, bytes of a pull after a small edit in a 64 MiB file). Prints markdown,
 * writes results/latest.json and results/*.svg. `--quick` for a run under two minutes. See benchmarks/README.md.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseFlagsOrExit, parseIntegerFlag, parseListFlag, runnerArgs } from './lib/flags.js';
import { collectRunInfo, REPO_DIR, writeResult } from './lib/run-info.js';
import { hasGnuTime } from './sync/measured-command.js';
import { ensureRsync, RsyncDaemon, type RsyncAvailability } from './sync/rsync-daemon.js';
import { freePort } from './sync/free-port.js';
import { openLanes, SYSTEMS, type Lane, type RunSample } from './sync/lanes.js';
import { editScenario, initialScenario, noChangeScenario, treeEditScenario, type ScenarioContext } from './sync/scenarios.js';
import { measureLatency, type LatencyResult } from './sync/latency.js';
import { measureScalePoint, type ScalePoint } from './sync/scale-curve.js';
import { measureDeviceLatency, measurePullBytes, type DeviceLatencyResult, type PullBytesResult } from './sync/two-way.js';
import { cellOf, latencyTable, resultsTable, scaleTable, summarize, twoWayTable, verdicts, verdictTable } from './sync/sync-report.js';
import { scaleChart, syncChart } from './sync/sync-chart.js';
import { prepareData, type BenchData } from './sync/bench-data.js';
import { writeTree } from './sync/sync-data.js';
import { sizesFor, type BenchSizes } from './sync/bench-sizes.js';

interface Flags {
  quick: boolean;
  runs: number | undefined;
  keep: boolean;
  only: Set<string> | undefined;
}

const GROUPS = ['big', 'throttled', 'tree', 'tiny', 'huge', 'latency', 'scale', 'two-way'] as const;

function parseFlags(): Flags {
  return parseFlagsOrExit('bench', () => {
    const { values } = parseArgs({
      args: runnerArgs(),
      options: { quick: { type: 'boolean', default: false }, runs: { type: 'string' }, keep: { type: 'boolean', default: false }, only: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    const only = parseListFlag('--only', values.only, GROUPS);
    return { quick: values.quick === true, keep: values.keep === true, runs: parseIntegerFlag('--runs', values.runs, 1, 99), only: only && new Set(only) };
  });
}

const t0 = performance.now();
function log(line: string): void {
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
}

function buildCli(): void {
  log('building packages/cli (tsc -b)');
  const r = spawnSync(join(REPO_DIR, 'node_modules', '.bin', 'tsc'), ['-b', 'packages/cli'], { cwd: REPO_DIR, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc -b packages/cli failed: ${r.stdout}${r.stderr}`);
}

async function withLanes(work: string, group: string, daemon: RsyncDaemon | undefined, keep: boolean, body: (lanes: Lane[]) => Promise<void>): Promise<void> {
  const dir = join(work, group);
  const lanes = await openLanes(dir, daemon, SYSTEMS);
  try {
    await body(lanes);
  } finally {
    for (const lane of lanes) await lane.close();
    if (!keep) {
      rmSync(dir, { recursive: true, force: true });
      for (const system of ['rsync', 'rsync-fsync']) if (daemon) rmSync(join(daemon.root, `${group}-${system}`), { recursive: true, force: true });
    }
  }
}

async function main(): Promise<void> {
  const flags = parseFlags();
  const sizes: BenchSizes = sizesFor(flags.quick, flags.runs);
  const wants = (g: (typeof GROUPS)[number]): boolean => flags.only === undefined || flags.only.has(g);
  buildCli();
  const rsync: RsyncAvailability = ensureRsync(log);
  if (!rsync.available) log(`RSYNC UNAVAILABLE: ${rsync.reason}. rsync rows and every ratio will be n/a.`);
  if (!hasGnuTime()) log('GNU time (/usr/bin/time) missing: client CPU and peak RSS will be n/a (apt-get install -y time)');
  const work = mkdtempSync(join(tmpdir(), 'deltabox-sync-bench-'));
  log(`work dir ${work} (${flags.quick ? 'quick' : 'full'} mode, ${sizes.runs} run(s))`);
  const daemon = rsync.available ? await RsyncDaemon.start(work, await freePort()) : undefined;
  const samples: RunSample[] = [];
  const ctx: ScenarioContext = { runs: sizes.runs, log, samples };
  const errors: { group: string; error: string }[] = [];
  let latency: LatencyResult[] = [];
  const scale: ScalePoint[] = [];
  let twoWayLatency: DeviceLatencyResult | undefined;
  let twoWayPull: PullBytesResult | undefined;
  const attempt = async (group: string, body: () => Promise<void>): Promise<void> => {
    try {
      await body();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      errors.push({ group, error: message });
      log(`ERROR in ${group}: ${message}`);
    }
  };
  let data: BenchData | undefined;
  try {
    data = prepareData(join(work, 'data'), sizes, log, { big: wants('big') || wants('throttled'), huge: wants('huge') });
    const bigData = data;
    if (wants('big') || wants('throttled')) {
      await attempt('big', () =>
        withLanes(work, 'big', daemon, flags.keep, async (lanes) => {
          if (wants('big')) {
            await editScenario(ctx, lanes, 'big-scattered-edits', [{ path: 'big.bin', basis: bigData.big.basis, target: bigData.big.scattered }]);
            await editScenario(ctx, lanes, 'big-append-1MiB', [{ path: 'big.bin', basis: bigData.big.basis, target: bigData.big.appended }]);
            await editScenario(ctx, lanes, 'log-grows', [{ path: 'app.log', basis: bigData.log.basis, target: bigData.log.grown }]);
          }
          if (wants('throttled')) {
            await editScenario(ctx, lanes, 'throttled-10Mbit-scattered-edits', [{ path: 'big.bin', basis: bigData.big.basis, target: bigData.big.scattered }], {
              bitsPerSecond: 10e6,
              runsOf: { 'deltabox-full': 1 },
            });
          }
        }),
      );
    }
    if (wants('tree')) {
      await attempt('tree', () =>
        withLanes(work, 'tree', daemon, flags.keep, async (lanes) => {
          log(`writing the tree: ${sizes.tree.files} files in ${sizes.tree.folders} folders, x${lanes.length} copies`);
          const bytes = writeTree(
            lanes.map((l) => l.clientDir),
            sizes.tree,
            'tree',
          );
          log(`  tree: ${(bytes / 1e6).toFixed(0)} MB`);
          if (bigData.treeBytes === undefined) bigData.treeBytes = bytes;
          // With no server version (first sync) or no change, deltabox-full is deltabox-delta by construction: not run.
          const noBasis = lanes.filter((l) => l.system !== 'deltabox-full');
          await initialScenario(ctx, noBasis, 'tree-initial');
          await noChangeScenario(ctx, noBasis, 'tree-no-change');
          // deltabox-full sat out the first sync: its server gets the tree now, unmeasured.
          for (const lane of lanes) if (lane.system === 'deltabox-full') await lane.settle();
          await treeEditScenario(ctx, lanes, 'tree-1pct-edited', sizes.tree, 'tree');
        }),
      );
    }
    if (wants('tiny')) {
      await attempt('tiny', () =>
        withLanes(work, 'tiny', daemon, flags.keep, async (lanes) => {
          // First syncs and no-change rescans only: deltabox-full would be deltabox-delta by construction.
          const used = lanes.filter((l) => l.system !== 'deltabox-full');
          log(`writing the tiny tree: ${sizes.tinyTree.files} files in ${sizes.tinyTree.folders} folders, x${used.length} copies`);
          const bytes = writeTree(
            used.map((l) => l.clientDir),
            sizes.tinyTree,
            'tiny',
          );
          log(`  tiny tree: ${(bytes / 2 ** 20).toFixed(2)} MiB of content`);
          bigData.tinyTreeBytes = bytes;
          await initialScenario(ctx, used, 'tiny-initial');
          await noChangeScenario(ctx, used, 'tiny-no-change');
        }),
      );
    }
    if (wants('huge') && data.huge) {
      const huge = data.huge;
      await attempt('huge', () =>
        withLanes(work, 'huge', daemon, flags.keep, async (lanes) => {
          const files = [{ path: 'huge.bin', basis: huge.basis, target: huge.scattered }];
          for (const lane of lanes) copyFileSync(huge.basis, join(lane.clientDir, 'huge.bin'));
          await initialScenario({ ...ctx, runs: 1 }, lanes.filter((l) => l.system !== 'deltabox-full'), 'huge-initial', 1);
          await editScenario({ ...ctx, runs: 1 }, lanes, 'huge-scattered-edits', files);
        }),
      );
    }
    if (wants('latency')) {
      await attempt('latency', async () => {
        latency = [
          await measureLatency(work, 'watcher', sizes.latencyEdits, sizes.latencyGapMs, sizes.latencyTree, 'lat', log),
          await measureLatency(work, 'scan-only', sizes.latencyEdits, sizes.latencyGapMs, sizes.latencyTree, 'lat', log),
        ];
      });
    }
    if (wants('two-way')) {
      await attempt('two-way-latency', async () => {
        twoWayLatency = await measureDeviceLatency(work, sizes.twoWayEdits, sizes.twoWayGapMs, sizes.twoWayTree, 'two-way', log);
      });
      await attempt('two-way-pull', async () => {
        twoWayPull = await measurePullBytes(work, sizes.pullFileBytes, sizes.pullEditBytes, daemon, log);
      });
    }
    if (wants('scale')) {
      for (const files of sizes.scaleFiles) await attempt(`scale-${files}`, async () => void scale.push(await measureScalePoint(work, files, sizes.runs, daemon, 'scale', log)));
    }
  } finally {
    await daemon?.stop();
    if (!flags.keep) rmSync(work, { recursive: true, force: true });
  }

  const cells = summarize(samples);
  const verdictList = verdicts({
    cells,
    scale,
    rssTargetFiles: 100_000,
    throttled: { delta: cellOf(cells, 'throttled-10Mbit-scattered-edits', 'deltabox-delta'), full: cellOf(cells, 'throttled-10Mbit-scattered-edits', 'deltabox-full') },
  });
  const info = collectRunInfo();
  const subtitle = `${flags.quick ? 'quick' : 'full'} mode, ${sizes.runs} run(s); ${info.cpuModel} x${info.cpuCount}; Node ${info.node}; ${rsync.available ? rsync.version : 'rsync unavailable'}; commit ${info.gitCommit.slice(0, 10)}; ${info.date}`;
  const resultPath = writeResult('latest.json', {
    benchmark: 'sync',
    mode: flags.quick ? 'quick' : 'full',
    command: `pnpm bench${flags.quick ? ' -- --quick' : ''}`,
    info,
    rsync,
    sizes,
    data: data?.describe(),
    method: METHOD_NOTES,
    errors,
    verdicts: verdictList,
    cells,
    latency,
    scale,
    twoWay: { latency: twoWayLatency, pull: twoWayPull },
    samples,
  });
  writeFileSync(join(REPO_DIR, 'benchmarks', 'results', 'sync-chart.svg'), syncChart(cells, subtitle));
  if (scale.length > 0) writeFileSync(join(REPO_DIR, 'benchmarks', 'results', 'scale-chart.svg'), scaleChart(scale, subtitle));

  const out = [
    `## Sync benchmark (${subtitle})`,
    '',
    resultsTable(cells),
    '',
    '### Targets',
    '',
    verdictTable(verdictList),
    '',
  ];
  if (latency.length > 0) out.push('### Propagation latency (write in the client folder -> bytes in the server folder)', '', latencyTable(latency), '');
  if (scale.length > 0) out.push('### Scale curve', '', scaleTable(scale), '');
  if (twoWayLatency || twoWayPull) out.push('### Two-way sync, device to device', '', twoWayTable(twoWayLatency, twoWayPull), '');
  if (errors.length > 0) out.push('### ERRORS', '', ...errors.map((e) => `- ${e.group}: ${e.error}`), '');
  if (!rsync.available) out.push(`**rsync UNAVAILABLE**: ${rsync.reason}`, '');
  out.push(`Raw runs: ${resultPath}; charts: benchmarks/results/sync-chart.svg, benchmarks/results/scale-chart.svg`);
  process.stdout.write(`${out.join('\n')}\n`);
  log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  if (errors.length > 0) process.exitCode = 1;
}

const METHOD_NOTES = [
  'Wire bytes: TCP payload counted by a node:net proxy in front of each server (benchmarks/src/sync/byte-counting-proxy.ts); IP/TCP headers not included, HTTP headers included.',
  'Seconds: the whole client process (deltabox: `node deltabox.js scan --once`, Node start-up and module load included; rsync: the rsync client), timed by the benchmark; reportedMs is the scanner summary\'s own elapsed time.',
  'Client CPU and peak RSS: GNU time (%U+%S, %M). Server: deltabox serve CPU from /proc/PID/stat and VmHWM after resetting it (clear_refs 5) per run; rsync daemon: CPU of its reaped children (cutime+cstime), peak RSS = sum of the sampled VmHWM of its children.',
  'deltabox-full: before each measured run the file is deleted on the server through the API (not through the proxy), so the scanner has no server version to send a delta against and uploads it whole (PUT). The scanner has no option to force full uploads; clearing its basis cache would not do it either (a cache miss fetches the server signature and still sends a delta).',
  'tree-initial, tree-no-change and huge-initial do not run deltabox-full: with no version on the server, or nothing changed, it is deltabox-delta by construction.',
  'Edited scenarios: before every measured run the client holds the basis and the server mirrors it (an unmeasured sync), like rsync\'s second run.',
  'rsync: rsync -a --no-whole-file --delete --exclude=/.deltabox SRC/ rsync://127.0.0.1:PROXY/bench/DEST/ to `rsync --daemon --no-detach` on 127.0.0.1.',
  'rsync-fsync: the same push with --fsync (the daemon\'s receiver fsyncs every file it writes): the durable anchor, since deltabox fsyncs every file before it acknowledges it.',
  'tiny-initial, tiny-no-change: 100,000 files of 1..33 B (~12 B mean, 1.1 MiB of content) in 1,000 folders (quick: 10,000 in 100); first sync to an empty server, then a no-change run.',
];

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
