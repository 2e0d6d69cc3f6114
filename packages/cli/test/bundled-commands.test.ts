/**
 * The built `deltabox` as users run it: bin/deltabox.js with the per-command bundles of dist/ (made by
 * `pnpm build`, scripts/bundle-commands.mjs), not the TypeScript sources the other tests run through tsx. A
 * real server (`serve`) and scanner (`scan --once`) on temp folders: a first sync, a delta of an edited 2 MiB
 * file (xxhash-wasm compiled synchronously in the bundle, better-sqlite3 required from outside it), `history`
 * and `token list` against the same folder. Skipped, loudly, when the bundles are not up to date.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { bundleIsCurrent } from './helpers/bundles.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const launcher = join(root, 'bin', 'deltabox.js');

/** Runs the launcher to completion, without tap's NODE_OPTIONS (its coverage hooks are an ES module). */
function run(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const result = spawnSync(process.execPath, [launcher, ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

t.test('serve, scan --once, history and token list work from the bundles', async (t) => {
  if (!['serve', 'scan', 'history', 'token'].every(bundleIsCurrent)) {
    t.skip('no up-to-date command bundles in dist/: run `pnpm build`');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'dbx-bundled-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sdir = join(dir, 'server');
  const cdir = join(dir, 'client');
  mkdirSync(join(cdir, 'docs'), { recursive: true });
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const server = spawn(process.execPath, [launcher, 'serve', '--sdir', sdir, '--host', '127.0.0.1', '--port', '0', '--issue-token-file', join(dir, 'tok')], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    server.kill('SIGKILL');
  });
  let log = '';
  server.stdout!.on('data', (d) => (log += String(d)));
  server.stderr!.on('data', (d) => (log += String(d)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not listen: ${log}`)), 30_000);
    const look = () => {
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    server.stdout!.on('data', look);
    server.on('exit', () => reject(new Error(`the server exited: ${log}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const big = randomBytes(2 * 1024 * 1024);
  writeFileSync(join(cdir, 'big.bin'), big);
  writeFileSync(join(cdir, 'docs', 'note.txt'), 'a note, naïve café\n');
  const scan = ['scan', '--cdir', cdir, '--server', url, '--token-file', join(dir, 'tok'), '--once', '--json'];

  const first = run(scan, dir);
  t.equal(first.status, 0, `first sync exits 0: ${first.stderr}`);
  t.match(JSON.parse(first.stdout.trim().split('\n').pop()!), { summary: { pending: 0, uploads: 2 } });
  t.same(readFileSync(join(sdir, 'big.bin')), big, 'the big file arrived whole');
  t.equal(readFileSync(join(sdir, 'docs', 'note.txt'), 'utf8'), 'a note, naïve café\n');

  big.write('an edit in the middle of the file', 1_000_000);
  writeFileSync(join(cdir, 'big.bin'), big);
  const second = run(scan, dir);
  t.equal(second.status, 0, `the edit syncs: ${second.stderr}`);
  const summary = (JSON.parse(second.stdout.trim().split('\n').pop()!) as { summary: { deltas: number; sentBytes: number } }).summary;
  t.equal(summary.deltas, 1, 'sent as a delta');
  t.ok(summary.sentBytes < 200_000, `a delta, not the file: ${summary.sentBytes} B sent`);
  t.same(readFileSync(join(sdir, 'big.bin')), big, 'the server holds the edited bytes');

  const history = run(['history', 'big.bin', '--server', url, '--token-file', join(dir, 'tok')], dir);
  t.equal(history.status, 0, history.stderr);
  t.match(history.stdout, /^current .* modified/m, 'the current version');
  t.match(history.stdout, /^\s+1\s+\S+\s+replaced\s/m, 'and the replaced one, kept as version 1');

  const tokens = run(['token', 'list', '--sdir', sdir], dir);
  t.equal(tokens.status, 0, tokens.stderr);
  t.match(tokens.stdout, /local\s+read-write\s+active/);
});
