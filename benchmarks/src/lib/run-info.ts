/**
 * Where a result came from (Node version, CPU, git commit, whether the checkout was dirty, date), a median, and
 * writing results/*.json. Pure bookkeeping: nothing here is timed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** benchmarks/ (this file is benchmarks/dist/lib/run-info.js once built). */
export const BENCHMARKS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REPO_DIR = join(BENCHMARKS_DIR, '..');

export interface RunInfo {
  date: string;
  node: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryBytes: number;
  platform: string;
  gitCommit: string;
  /** `git status --porcelain` lines under packages/core: the commit alone does not pin core's code then. */
  coreDirty: string[];
  /** SHA-256 over packages/core/src (paths and contents), to tell apart runs of uncommitted core code. */
  coreSourceHash: string;
}

export function collectRunInfo(): RunInfo {
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cpuCount: cpu.length,
    totalMemoryBytes: totalmem(),
    platform: `${process.platform}-${process.arch}`,
    gitCommit: git(['rev-parse', 'HEAD']) || 'unknown',
    coreDirty: git(['status', '--porcelain', '--', 'packages/core']).split('\n').filter((l) => l !== ''),
    coreSourceHash: hashTree(join(REPO_DIR, 'packages', 'core', 'src')),
  };
}

function git(args: string[]): string {
  const r = spawnSync('git', args, { cwd: REPO_DIR, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

function hashTree(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(`${relative(root, path)}\0`).update(readFileSync(path));
    }
  };
  try {
    walk(root);
  } catch {
    return 'unknown';
  }
  return hash.digest('hex');
}

/** Median of a non-empty list (mean of the middle two for even lengths). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Writes `benchmarks/results/<name>` as pretty JSON and returns its path. */
export function writeResult(name: string, data: unknown): string {
  const path = join(BENCHMARKS_DIR, 'results', name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(data, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  return path;
}
