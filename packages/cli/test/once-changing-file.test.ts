/**
 * `scan --once` and a file that is being written while the scan reads it (the stable read refuses it and the
 * scan looks again 300 ms later): the run waits until the file settles and sends it, and a file that never
 * settles does not hold the run forever (a warning says it was not sent). Real server, the CLI as a child
 * process, the writer as another.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hashFile, mintToken, startServer, tempDir } from './helpers/harness.js';
import { spawnCli } from './helpers/child.js';

/**
 * A child that rewrites `file` in place (8 MiB, different bytes each time) without pause for `ms`, then exits:
 * the scan's read of it overlaps a rewrite nearly every time.
 */
function rewriteFor(file: string, ms: number) {
  const script = `
    const fs = require('node:fs');
    const buf = Buffer.alloc(8 * 1024 * 1024, 1);
    const end = Date.now() + ${ms};
    const fd = fs.openSync(${JSON.stringify(file)}, 'w');
    let i = 0;
    // In place, never truncated: every moment shows 8 MiB, and only a read between two writes is stable.
    do { buf.writeUInt32LE(++i, 0); buf.writeUInt32LE(i, buf.length - 8); fs.writeSync(fd, buf, 0, buf.length, 0); } while (Date.now() < end);
    fs.closeSync(fd);
    process.stdout.write('done ' + i);
  `;
  const proc = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += String(d)));
  const exited = new Promise<string>((resolve) => proc.on('exit', () => resolve(out)));
  return { proc, exited };
}

async function rig(t: Tap.Test) {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const scan = ['scan', '--cdir', cdir, '--server', server.url, '--token', mintToken(sdir), '--once'];
  return { cdir, sdir, scan };
}

t.test('a file written while --once scans it is sent once it settles, before the run ends', async (t) => {
  const { cdir, sdir, scan } = await rig(t);
  const file = join(cdir, 'growing.bin');
  const writer = rewriteFor(file, 4000);
  t.teardown(() => void writer.proc.kill('SIGKILL'));
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  const run = spawnCli(scan);
  const { code } = await run.exited;
  const rewrites = await writer.exited;
  t.equal(code, 0, run.stderr());
  t.match(rewrites, /^done \d+$/, 'the writer ran to its end');
  t.ok(existsSync(join(sdir, 'growing.bin')), 'the server has the file');
  t.equal(hashFile(join(sdir, 'growing.bin')), hashFile(file), `the server holds its last version (${rewrites} writes)`);
  t.match(run.stdout(), /synced: 1 path\(s\) changed/);
});

t.test('a file that never settles does not hold --once forever: it ends with a warning', async (t) => {
  const { cdir, scan } = await rig(t);
  const file = join(cdir, 'log.bin');
  const writer = rewriteFor(file, 60_000);
  t.teardown(() => void writer.proc.kill('SIGKILL'));
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 10));
  const started = Date.now();
  const run = spawnCli(scan);
  const { code } = await run.exited;
  const ended = Date.now() - started;
  writer.proc.kill('SIGKILL'); // SIGTERM did not stop it under the test runner
  await writer.exited;
  t.equal(code, 0, run.stderr());
  t.ok(ended < 15_000, `ended after ${ended} ms, the writer still writing`);
  t.match(run.stderr() + run.stdout(), /kept changing while it was read/);
});
