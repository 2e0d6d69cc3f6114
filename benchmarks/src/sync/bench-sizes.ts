/** The sizes of the full and the quick run (quick: the same scenarios, smaller, one run, under two minutes). */
import type { TreeSpec } from './sync-data.js';

const MiB = 1024 * 1024;

export interface BenchSizes {
  runs: number;
  bigBytes: number;
  scatteredEdits: number;
  appendBytes: number;
  logBytes: number;
  logGrowthBytes: number;
  hugeBytes: number;
  tree: TreeSpec;
  /** The tiny-files tree: the 100,000 files of ~12 B (1.1 MiB of content) in 1,000 folders. */
  tinyTree: TreeSpec;
  latencyEdits: number;
  /** Mean time between two latency edits. */
  latencyGapMs: number;
  latencyTree: TreeSpec;
  scaleFiles: number[];
  /** Two-way: small edits on device A timed until they are on device B. */
  twoWayEdits: number;
  twoWayGapMs: number;
  twoWayTree: TreeSpec;
  /** Two-way: the big file of the pull measurement, and the size of the one edit in it. */
  pullFileBytes: number;
  pullEditBytes: number;
}

export function sizesFor(quick: boolean, runs: number | undefined): BenchSizes {
  const common = {
    scatteredEdits: 10,
    appendBytes: 1 * MiB,
    logGrowthBytes: 100_000,
    latencyTree: { files: 1000, folders: 20, spreadBytes: 8192 },
    twoWayTree: { files: 300, folders: 10, spreadBytes: 8192 },
    pullFileBytes: 64 * MiB,
    pullEditBytes: 4096,
  };
  // Tree files: 512 B + r^2 x 100 KiB, mean ~34 KB (20,000 files ~ 690 MB, near the 658 MB); ~20% exceed 64 KiB.
  return quick
    ? { ...common, runs: runs ?? 1, bigBytes: 32 * MiB, logBytes: 16 * MiB, hugeBytes: 128 * MiB, tree: { files: 2000, folders: 50, spreadBytes: 100 * 1024 }, tinyTree: { files: 10_000, folders: 100, minBytes: 1, spreadBytes: 32 }, latencyEdits: 20, latencyGapMs: 250, scaleFiles: [1000, 5000], twoWayEdits: 20, twoWayGapMs: 400 }
    : { ...common, runs: runs ?? 3, bigBytes: 256 * MiB, logBytes: 128 * MiB, hugeBytes: 1024 * MiB, tree: { files: 20_000, folders: 500, spreadBytes: 100 * 1024 }, tinyTree: { files: 100_000, folders: 1000, minBytes: 1, spreadBytes: 32 }, latencyEdits: 100, latencyGapMs: 500, scaleFiles: [1000, 10_000, 100_000], twoWayEdits: 100, twoWayGapMs: 500 };
}
