/** Spawns the whole CLI (src/main.ts through tsx, no build needed) as a child process and collects its output. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('../fixtures/main.ts', import.meta.url));
const launcher = fileURLToPath(new URL('../../bin/deltabox.js', import.meta.url));

export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnCli(args: string[], env: Record<string, string> = {}): Child {
  return spawnNode(['--import=tsx', '--conditions=deltabox-src', fixture, ...args], env);
}

/** Spawns bin/deltabox.js itself: only its own answers (--version, --help) work without a build. */
export function spawnBin(args: string[]): Child {
  return spawnNode([launcher, ...args], {});
}

function spawnNode(argv: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  proc.stderr!.on('data', (d) => (err += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, stdout: () => out, stderr: () => err, exited };
}
