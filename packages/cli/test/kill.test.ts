/**
 * Crash safety: the scanner killed with SIGKILL in the middle of a sync and started again converges,
 * repeats nothing harmful, and leaves no temp files behind.
 */
import t from 'tap';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mintToken, startServer, tempDir, treeDifferences, waitFor, writeSeededFile, journal } from './helpers/harness.js';
import { spawnCli } from './helpers/child.js';

t.test('a scanner killed mid-sync and restarted converges with no temp files left', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  for (let d = 0; d < 10; d++) {
    mkdirSync(join(cdir, `dir-${d}`), { recursive: true });
    for (let f = 0; f < 40; f++) writeFileSync(join(cdir, `dir-${d}/f-${f}.txt`), `content ${d} ${f}\n`.repeat(f + 1));
  }
  writeSeededFile(join(cdir, 'large.bin'), 5, 96 * 1024 * 1024);
  writeSeededFile(join(cdir, 'medium.bin'), 6, 8 * 1024 * 1024);
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const token = mintToken(sdir);
  const args = ['scan', '--cdir', cdir, '--server', server.url, '--token', token, '--concurrency', '2'];

  const first = spawnCli(args);
  await waitFor(async () => (await journal(server.url, token)).length >= 20, `some files reached the server (stderr: ${first.stderr()})`, 60_000);
  first.proc.kill('SIGKILL');
  const killed = await first.exited;
  t.equal(killed.signal, 'SIGKILL', 'the first scanner was killed');
  t.not(treeDifferences(cdir, sdir).length, 0, 'it was killed before the server mirrored the folder');

  const second = spawnCli([...args, '--once']);
  const { code } = await second.exited;
  t.equal(code, 0, second.stderr());
  t.same(treeDifferences(cdir, sdir), [], 'converged after the restart');
  t.same(readdirSync(join(cdir, '.deltabox/tmp')), [], 'no temp files left in the client state');
  const puts = (await journal(server.url, token)).filter((c) => c.op === 'put' && c.path === 'large.bin');
  t.ok(puts.length <= 1, `large.bin committed at most once (${puts.length})`);
});

t.test('Ctrl-C during scan --once parks the work; the next run finishes it', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  for (let f = 0; f < 50; f++) writeFileSync(join(cdir, `small-${f}.txt`), `small ${f}`);
  writeSeededFile(join(cdir, 'large.bin'), 8, 150 * 1024 * 1024);
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const token = mintToken(sdir);
  const args = ['scan', '--cdir', cdir, '--server', server.url, '--token', token, '--once'];
  const first = spawnCli(args);
  await waitFor(async () => (await journal(server.url, token)).length >= 10, 'the first run has started sending', 60_000);
  first.proc.kill('SIGINT');
  const { code } = await first.exited;
  if (code === 0) t.comment('the first run finished before the interrupt');
  else t.match(first.stderr(), /interrupted; unsent changes stay queued/);
  const second = spawnCli(args);
  t.equal((await second.exited).code, 0, second.stderr());
  t.same(treeDifferences(cdir, sdir), []);
  t.same(readdirSync(join(cdir, '.deltabox/tmp')), []);
});
