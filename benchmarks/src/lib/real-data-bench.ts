/**
 * Runs the real-data section of the core benchmark: every available delta tool on every real pair, --runs
 * times, the tools' order rotating each run so none always goes first. Per run and tool: the signature (when
 * the tool needs one, timed apart), the delta step (timed: whole process, peak RSS), then the apply step, whose
 * output must hash to the target (the round trip). A tool that fails is recorded with its error, not fatal.
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runMeasured } from './measured-process.js';
import { DELTA_TOOLS, detectPeers, type Command, type DeltaTool, type PeerName, type ToolPaths } from './real-delta-tools.js';
import type { RealPair } from './real-pairs.js';
import { median } from './run-info.js';
import { hashFile } from './seeded-data.js';
import type { SystemPeer } from './system-peer.js';

/** One run of one tool on one pair. Times are whole processes (start-up included), ms. */
export interface ToolSample {
  run: number;
  signatureMs?: number;
  deltaMs?: number;
  deltaRssKb?: number;
  deltaBytes?: number;
  applyMs?: number;
  applyRssKb?: number;
  /** The applied delta rebuilt the target byte for byte. */
  roundTrip?: boolean;
  error?: string;
}

/** Medians over the successful runs of one tool on one pair. */
export interface ToolSummary {
  deltaBytes: number;
  deltaMs: number;
  deltaMBps: number;
  bestDeltaMBps: number;
  /** Worst peak RSS of the delta step over the runs, KiB. */
  deltaPeakRssKb: number | undefined;
  applyMBps: number | undefined;
  signatureMs: number | undefined;
  /** Every run's apply reproduced the target. */
  roundTrip: boolean;
  /** Not every run gave the same delta size (a non-deterministic encoder). */
  sizeVaries: boolean;
}

export interface ToolResult {
  pair: string;
  tool: string;
  label: string;
  peer: PeerName;
  commands: { signature?: string; delta: string; apply: string };
  samples: ToolSample[];
  /** Undefined when the peer is missing or every run failed. */
  summary: ToolSummary | undefined;
}

export interface RealDataResults {
  peers: Record<PeerName, SystemPeer>;
  results: ToolResult[];
}

/** Measures every available tool on `pairs`; scratch files go to `workDir`. */
export async function runRealDataBench(pairs: readonly RealPair[], runs: number, workDir: string, log: (line: string) => void): Promise<RealDataResults> {
  const peers = detectPeers();
  for (const [name, peer] of Object.entries(peers)) if (!peer.available) log(`peer ${name} UNAVAILABLE: ${peer.note}`);
  const tools = DELTA_TOOLS.filter((t) => peers[t.peer].available);
  const results: ToolResult[] = [];
  for (const pair of pairs) {
    const byTool = new Map<string, ToolSample[]>(DELTA_TOOLS.map((t) => [t.id, []]));
    for (let run = 0; run < runs; run++) {
      log(`real pair ${pair.id}: run ${run + 1}/${runs}`);
      const order = tools.map((_, i) => tools[(i + run) % tools.length]!);
      for (const tool of order) byTool.get(tool.id)!.push(await runOnce(tool, pathsFor(pair, tool, workDir), pair.targetSha256, run));
    }
    for (const tool of DELTA_TOOLS) {
      const p = pathsFor(pair, tool, workDir);
      const samples = byTool.get(tool.id)!;
      for (const s of samples) if (s.error) log(`  ${tool.id} run ${s.run + 1} failed: ${s.error}`);
      results.push({
        pair: pair.id,
        tool: tool.id,
        label: tool.label,
        peer: tool.peer,
        commands: { signature: tool.signature && show(tool.signature(p)), delta: show(tool.delta(p)), apply: show(tool.apply(p)) },
        samples,
        summary: summarize(samples, pair.targetBytes),
      });
    }
  }
  return { peers, results };
}

function pathsFor(pair: RealPair, tool: DeltaTool, workDir: string): ToolPaths {
  const f = (kind: string) => join(workDir, `${pair.id}.${tool.id}.${kind}`);
  return { basis: pair.basis, target: pair.target, signature: f('sig'), delta: f('delta'), out: f('out'), basisBytes: pair.basisBytes, targetBytes: pair.targetBytes };
}

/** Outputs are deleted before each step: rewriting an existing file makes ext4 flush it on close (auto_da_alloc). */
async function step(command: Command, output: string) {
  rmSync(output, { force: true });
  return runMeasured(command.file, command.args);
}

async function runOnce(tool: DeltaTool, p: ToolPaths, targetSha256: string, run: number): Promise<ToolSample> {
  const sample: ToolSample = { run };
  try {
    if (tool.signature) sample.signatureMs = (await step(tool.signature(p), p.signature)).wallMs;
    const delta = await step(tool.delta(p), p.delta);
    sample.deltaMs = delta.wallMs;
    sample.deltaRssKb = delta.peakRssKb;
    sample.deltaBytes = statSync(p.delta).size;
    const apply = await step(tool.apply(p), p.out);
    sample.applyMs = apply.wallMs;
    sample.applyRssKb = apply.peakRssKb;
    sample.roundTrip = hashFile(p.out).sha256 === targetSha256;
    if (!sample.roundTrip) sample.error = 'the applied delta does not reproduce the target (SHA-256 differs)';
  } catch (e) {
    sample.error = (e as Error).message.slice(0, 500);
  } finally {
    for (const path of [p.signature, p.delta, p.out]) rmSync(path, { force: true });
  }
  return sample;
}

function summarize(samples: readonly ToolSample[], targetBytes: number): ToolSummary | undefined {
  const ok = samples.filter((s) => s.deltaMs !== undefined && s.deltaBytes !== undefined);
  if (ok.length === 0) return undefined;
  const mb = targetBytes / 1e6;
  const deltaMs = median(ok.map((s) => s.deltaMs!));
  const applied = ok.filter((s) => s.applyMs !== undefined);
  const rss = ok.map((s) => s.deltaRssKb).filter((x): x is number => x !== undefined);
  const signatures = ok.map((s) => s.signatureMs).filter((x): x is number => x !== undefined);
  const sizes = new Set(ok.map((s) => s.deltaBytes!));
  return {
    deltaBytes: median(ok.map((s) => s.deltaBytes!)),
    deltaMs,
    deltaMBps: mb / (deltaMs / 1000),
    bestDeltaMBps: mb / (Math.min(...ok.map((s) => s.deltaMs!)) / 1000),
    deltaPeakRssKb: rss.length ? Math.max(...rss) : undefined,
    applyMBps: applied.length ? mb / (median(applied.map((s) => s.applyMs!)) / 1000) : undefined,
    signatureMs: signatures.length ? median(signatures) : undefined,
    roundTrip: samples.every((s) => s.roundTrip === true),
    sizeVaries: sizes.size > 1,
  };
}

function show(c: Command): string {
  return [c.file === process.execPath ? 'node' : c.file, ...c.args].join(' ');
}
