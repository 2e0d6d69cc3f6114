/**
 * Runs one client command (a `deltabox scan --once`, an `rsync` push) under GNU time and reports its wall time
 * (process start included), CPU time and peak RSS. Rejects when the command fails. It does not retry.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';

export interface CommandCost {
  wallMs: number;
  /** user + system CPU, ms; undefined without GNU time. */
  cpuMs: number | undefined;
  peakRssKb: number | undefined;
  stdout: string;
  stderr: string;
}

let counter = 0;

/** Whether GNU time is there (CPU and peak RSS of clients need it). */
export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

export function runCommand(command: string, args: readonly string[], scratchDir: string, env?: NodeJS.ProcessEnv): Promise<CommandCost> {
  const timeFile = join(scratchDir, `time-${process.pid}-${counter++}.txt`);
  const timed = hasGnuTime();
  const [file, argv] = timed ? [GNU_TIME, ['-f', '%e %U %S %M', '-o', timeFile, command, ...args]] : [command, [...args]];
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - start;
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      let cpuMs: number | undefined;
      let peakRssKb: number | undefined;
      if (timed && existsSync(timeFile)) {
        // On failure GNU time writes "Command exited with non-zero status N" before the figures.
        const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
        const [, user, sys, rss] = last.split(' ').map(Number);
        if (Number.isFinite(user) && Number.isFinite(sys)) cpuMs = (user! + sys!) * 1000;
        if (Number.isFinite(rss)) peakRssKb = rss;
        rmSync(timeFile, { force: true });
      }
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}: ${stderr.trim().slice(-2000)}`));
        return;
      }
      resolve({ wallMs, cpuMs, peakRssKb, stdout, stderr });
    });
  });
}
