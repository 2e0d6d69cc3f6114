/**
 * The core's long decoder fuzz run (signature and delta decoding), spawned as its own package script:
 * `pnpm --filter @deltabox/core fuzz -- --cases N --seed S` (packages/core/scripts/fuzz-decoders.ts).
 * Records its output; a crash is its exit code, a hang is the deadline, memory is its reported RSS growth.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { newResult, type ScenarioResult } from '../harness/report.js';

const CORE_DIR = fileURLToPath(new URL('../../../packages/core/', import.meta.url));

/** pnpm when this run was started by pnpm (npm_execpath), else the same script through node + tsx. */
function command(cases: number, seed: number): { file: string; args: string[]; shown: string } {
  const execPath = process.env.npm_execpath;
  const fuzzArgs = ['--cases', String(cases), '--seed', String(seed)];
  if (execPath && /pnpm/.test(execPath)) {
    return { file: process.execPath, args: [execPath, '--filter', '@deltabox/core', 'fuzz', '--', ...fuzzArgs], shown: `pnpm --filter @deltabox/core fuzz -- ${fuzzArgs.join(' ')}` };
  }
  const args = ['--import=tsx', '--conditions=deltabox-src', 'scripts/fuzz-decoders.ts', ...fuzzArgs];
  return { file: process.execPath, args, shown: `(cd packages/core && node ${args.join(' ')})` };
}

export async function decoderFuzz(o: { seed: number; cases: number; timeoutMs: number; log?: (line: string) => void }): Promise<ScenarioResult> {
  const started = Date.now();
  const result = newResult('decoder-fuzz', o.seed);
  const { file, args, shown } = command(o.cases, o.seed);
  o.log?.(`  decoder-fuzz: ${shown}`);
  let output = '';
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(file, args, { cwd: CORE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    const timer = setTimeout(() => {
      result.failures.push(`the decoder fuzz run did not finish in ${o.timeoutMs} ms (hang?)`);
      child.kill('SIGKILL');
    }, o.timeoutMs);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const summaryLine = output.split('\n').find((l) => l.startsWith('{"cases"'));
  if (code !== 0) result.failures.push(`the fuzz run exited with ${code}: ${output.slice(-800)}`);
  if (summaryLine) {
    const s = JSON.parse(summaryLine) as { cases: number; accepted: number; rejected: Record<string, number>; seconds: number; rssGrowthMiB: number };
    result.trials = s.cases;
    result.faults = s.cases;
    result.filesChecked = s.cases;
    result.notes.push(`command: ${shown}`);
    result.notes.push(`output: ${summaryLine}`);
    result.notes.push(output.split('\n').filter((l) => / passed, /.test(l)).join(' ') || 'no pass line');
    if (s.rssGrowthMiB > 256) result.failures.push(`RSS grew by ${s.rssGrowthMiB.toFixed(0)} MiB`);
  } else {
    result.failures.push(`no summary line in the output: ${output.slice(-800)}`);
  }
  result.elapsedMs = Date.now() - started;
  return result;
}
