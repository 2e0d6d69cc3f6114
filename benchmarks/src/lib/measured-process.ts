/**
 * Runs one command as a child process and reports its wall time and peak RSS: from `/usr/bin/time -f %M` when
 * present, else by sampling VmHWM in /proc/<pid>/status. It neither retries nor interprets the output.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const GNU_TIME = '/usr/bin/time';
/** Sampling period of the /proc fallback; VmHWM is a high-water mark, so only the last sample can be missed. */
const RSS_SAMPLE_MS = 5;

export interface MeasuredRun {
  wallMs: number;
  /** Peak resident set, KiB; undefined when neither way of measuring worked. */
  peakRssKb: number | undefined;
  rssSource: 'gnu-time' | 'proc-sampling';
  stdout: string;
  stderr: string;
}

/** How peak RSS is measured on this machine. */
export function rssMethod(): MeasuredRun['rssSource'] {
  return existsSync(GNU_TIME) ? 'gnu-time' : 'proc-sampling';
}

let runCounter = 0;

/** Runs `command args`; rejects with stderr when it exits non-zero. */
export function runMeasured(command: string, args: readonly string[], cwd?: string): Promise<MeasuredRun> {
  const method = rssMethod();
  const timeFile = join(tmpdir(), `deltabox-bench-rss-${process.pid}-${runCounter++}.txt`);
  const [file, argv] = method === 'gnu-time' ? [GNU_TIME, ['-f', '%M', '-o', timeFile, command, ...args]] : [command, [...args]];
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(file, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    let sampled: number | undefined;
    const sampler =
      method === 'proc-sampling'
        ? setInterval(() => {
            const hwm = readVmHwmKb(child.pid);
            if (hwm !== undefined) sampled = Math.max(sampled ?? 0, hwm);
          }, RSS_SAMPLE_MS)
        : undefined;
    child.on('error', (e) => {
      clearInterval(sampler);
      reject(e);
    });
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - start;
      clearInterval(sampler);
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      let peakRssKb = sampled;
      if (method === 'gnu-time' && existsSync(timeFile)) {
        // GNU time writes "Command exited with non-zero status N" before the figure on failure.
        const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
        const value = Number(lines[lines.length - 1]);
        peakRssKb = Number.isFinite(value) ? value : undefined;
        rmSync(timeFile, { force: true });
      }
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}: ${stderr.trim()}`));
        return;
      }
      resolve({ wallMs, peakRssKb, rssSource: method, stdout, stderr });
    });
  });
}

function readVmHwmKb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // the process has exited between samples
  }
}
