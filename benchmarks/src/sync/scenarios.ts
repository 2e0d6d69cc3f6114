/**
 * The scenarios: each puts seeded content in every lane's client folder, prepares the server side (unmeasured),
 * then measures one sync per lane per run, lanes alternating. Edited-file scenarios start every run from the
 * basis already on the server (a persistent client, like rsync's second run); deltabox-full has the file
 * removed on the server first, so its upload is whole. It does not report: see sync-report.ts.
 */
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, type Lane, type RunSample } from './lanes.js';
import { editTree, type TreeSpec } from './sync-data.js';

export interface ScenarioContext {
  runs: number;
  log(line: string): void;
  samples: RunSample[];
}

export interface EditedFile {
  /** Path inside the client folder. */
  path: string;
  basis: string;
  target: string;
}

export interface EditOptions {
  /** Limit the proxies to this bandwidth during the measured runs. */
  bitsPerSecond?: number;
  /** Runs per system when not ctx.runs (e.g. one throttled full upload of 256 MiB takes 3.5 minutes). */
  runsOf?: Partial<Record<Lane['system'], number>>;
}

function keepOnly(lane: Lane, paths: readonly string[]): void {
  const keep = new Set(paths.map((p) => p.split('/')[0]));
  for (const name of readdirSync(lane.clientDir)) {
    if (name !== '.deltabox' && !keep.has(name)) rmSync(join(lane.clientDir, name), { recursive: true, force: true });
  }
}

function record(ctx: ScenarioContext, sample: RunSample): void {
  ctx.samples.push(sample);
  const kb = (n: number): string => `${(n / 1000).toFixed(1)} KB`;
  ctx.log(
    `  ${sample.scenario} ${sample.system} run ${sample.run}: ${(sample.wallMs / 1000).toFixed(2)} s, ` +
      `sent ${kb(sample.sentBytes)}, received ${kb(sample.receivedBytes)}` +
      (sample.summary ? ` (scanner says ${kb(sample.summary.sentBytes)} / ${kb(sample.summary.receivedBytes)}, ${sample.summary.deltas} delta(s), ${sample.summary.uploads} upload(s))` : ''),
  );
}

/** Every run: the client holds the basis and the server mirrors it; then the target replaces it and is synced. */
export async function editScenario(ctx: ScenarioContext, lanes: readonly Lane[], name: string, files: readonly EditedFile[], options: EditOptions = {}): Promise<void> {
  ctx.log(`scenario ${name}`);
  const paths = files.map((f) => f.path);
  for (let run = 0; run < ctx.runs; run++) {
    for (const lane of alternate(lanes, run)) {
      if (run >= (options.runsOf?.[lane.system] ?? ctx.runs)) continue;
      keepOnly(lane, paths);
      for (const f of files) copyFileSync(f.basis, join(lane.clientDir, f.path));
      await lane.settle();
      for (const f of files) copyFileSync(f.target, join(lane.clientDir, f.path));
      lane.proxy.setBandwidth(options.bitsPerSecond);
      try {
        record(ctx, await lane.sync(name, run));
      } finally {
        lane.proxy.setBandwidth(undefined);
      }
    }
  }
}

/** A first sync to an empty server (client state forgotten too), `ctx.runs` times per lane. */
export async function initialScenario(ctx: ScenarioContext, lanes: readonly Lane[], name: string, runs = ctx.runs): Promise<void> {
  ctx.log(`scenario ${name}`);
  for (let run = 0; run < runs; run++) {
    for (const lane of alternate(lanes, run)) {
      await lane.resetServer();
      record(ctx, await lane.sync(name, run));
    }
  }
}

/** Nothing changed since the last sync. */
export async function noChangeScenario(ctx: ScenarioContext, lanes: readonly Lane[], name: string): Promise<void> {
  ctx.log(`scenario ${name}`);
  for (let run = 0; run < ctx.runs; run++) {
    for (const lane of alternate(lanes, run)) record(ctx, await lane.sync(name, run));
  }
}

/** Each run edits the same 1% of the tree with new bytes (in every lane's copy), then syncs. */
export async function treeEditScenario(ctx: ScenarioContext, lanes: readonly Lane[], name: string, spec: TreeSpec, seed: string): Promise<void> {
  ctx.log(`scenario ${name}`);
  for (let run = 0; run < ctx.runs; run++) {
    const edited = editTree(
      lanes.map((l) => l.clientDir),
      spec,
      seed,
      run,
    );
    for (const lane of alternate(lanes, run)) {
      record(ctx, await lane.sync(name, run));
    }
  }
}
