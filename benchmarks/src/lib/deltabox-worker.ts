/**
 * Child-process entry: runs one deltabox file operation (or the signature+delta+patch chain) and prints one JSON
 * line with its time (module loading excluded) and the process's peak RSS. Run as
 * `node dist/lib/deltabox-worker.js <op> <json args>`; the parent owns scenarios, repeats and reporting.
 */
import { performance } from 'node:perf_hooks';
import { deltaFile, patchFile, signatureFile } from './deltabox-file-ops.js';

/** What the worker prints on stdout, one line. */
export interface WorkerReport {
  op: WorkerOp;
  /** Time of the operation alone: after imports (xxhash-wasm) are loaded, until output files are closed. */
  elapsedMs: number;
  /** process.resourceUsage().maxRSS, KiB. */
  maxRssKb: number;
  result: Record<string, unknown>;
  /** Where @deltabox/core resolved: must be its built dist, not src through a loader. */
  coreModule: string;
}

export type WorkerOp = 'signature' | 'delta' | 'patch' | 'chain';

export interface WorkerArgs {
  basis: string;
  target?: string;
  signature: string;
  delta?: string;
  out?: string;
  /** delta: byte-exact mode (basis bytes at hand). */
  exact?: boolean;
}

async function run(op: WorkerOp, a: WorkerArgs): Promise<Record<string, unknown>> {
  switch (op) {
    case 'signature':
      return { ...signatureFile(a.basis, a.signature) };
    case 'delta':
      return { ...deltaFile(a.signature, need(a.target, 'target'), need(a.delta, 'delta'), a.exact ? a.basis : undefined) };
    case 'patch':
      return { ...(await patchFile(a.basis, need(a.delta, 'delta'), need(a.out, 'out'))) };
    case 'chain': {
      // Everything a sync does on one machine, in one process: the peak RSS of the whole path.
      const signature = signatureFile(a.basis, a.signature);
      const delta = deltaFile(a.signature, need(a.target, 'target'), need(a.delta, 'delta'));
      const exact = deltaFile(a.signature, need(a.target, 'target'), `${need(a.delta, 'delta')}.exact`, a.basis);
      const patch = await patchFile(a.basis, `${need(a.delta, 'delta')}.exact`, need(a.out, 'out'));
      return { signature, delta, exact, patch };
    }
  }
}

function need(value: string | undefined, name: string): string {
  if (value === undefined) throw new Error(`worker: missing argument "${name}"`);
  return value;
}

const op = process.argv[2] as WorkerOp;
const args = JSON.parse(process.argv[3] ?? '{}') as WorkerArgs;
const start = performance.now();
const result = await run(op, args);
const elapsedMs = performance.now() - start;
const report: WorkerReport = { op, elapsedMs, maxRssKb: process.resourceUsage().maxRSS, result, coreModule: import.meta.resolve('@deltabox/core') };
process.stdout.write(`${JSON.stringify(report)}\n`);
