/**
 * `deltabox history`, `restore` and `trash` against a real server on 127.0.0.1 (the whole CLI as a child
 * process), and the pure parts: --keep and --at parsing.
 */
import t from 'tap';
import { createToken } from '@deltabox/server';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCli } from './helpers/child.js';
import { startServer, tempDir, waitFor } from './helpers/harness.js';
import { parseKeep } from '../src/keep-policy.js';
import { parseAt, restoreRequest } from '../src/commands/history.js';

async function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawnCli(args);
  const { code } = await child.exited;
  return { code, out: child.stdout(), err: child.stderr() };
}

async function put(url: string, token: string, path: string, body: string): Promise<void> {
  const res = await fetch(`${url}/v1/files/${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body });
  if (res.status !== 200) throw new Error(`PUT ${path}: ${res.status}`);
}

t.test('history, restore --version, restore --to, trash and a read-only token, end to end', async (t) => {
  const sdir = join(tempDir(t), 'served');
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const token = createToken(sdir, { name: 'laptop' });
  const viewer = createToken(sdir, { name: 'viewer', readOnly: true });
  for (let i = 1; i <= 3; i++) await put(server.url, token, 'notes/plan.md', `plan v${i}`);
  const auth = ['--server', server.url, '--token', token];

  const listed = await cli(['history', 'notes/plan.md', ...auth, '--json']);
  t.equal(listed.code, 0, listed.err);
  const versions = JSON.parse(listed.out).versions as Array<{ id: number; size: number; device: string }>;
  t.equal(versions.length, 2);
  t.equal(versions[0]!.device, 'laptop');
  const table = await cli(['history', 'notes/plan.md', ...auth]);
  t.match(table.out, /current .* laptop/);
  t.match(table.out, new RegExp(`^\\s+${versions[1]!.id}\\s`, 'm'), 'each version id is listed');

  const refused = await cli(['restore', 'notes/plan.md', '--version', String(versions[1]!.id), '--server', server.url, '--token', viewer]);
  t.equal(refused.code, 5, 'a read-only token may not restore (auth exit code)');
  t.match(refused.err, /FORBIDDEN/);
  t.equal((await cli(['history', 'notes/plan.md', '--server', server.url, '--token', viewer])).code, 0, 'but may list');

  const restored = await cli(['restore', 'notes/plan.md', '--version', String(versions[1]!.id), ...auth]);
  t.equal(restored.code, 0, restored.err);
  t.match(restored.out, /restored notes\/plan\.md/);
  t.equal(readFileSync(join(sdir, 'notes/plan.md'), 'utf8'), 'plan v1');
  const copy = await cli(['restore', 'notes/plan.md', '--version', String(versions[0]!.id), '--to', 'notes/plan-v2.md', ...auth]);
  t.equal(copy.code, 0, copy.err);
  t.equal(readFileSync(join(sdir, 'notes/plan-v2.md'), 'utf8'), 'plan v2');

  await fetch(`${server.url}/v1/files/notes/plan-v2.md`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  const trash = await cli(['trash', ...auth]);
  t.equal(trash.code, 0, trash.err);
  t.match(trash.out, /deleted .* notes\/plan-v2\.md/);
  const missing = await cli(['restore', 'notes/plan.md', '--version', '999999', ...auth]);
  t.equal(missing.code, 3, 'an unknown version is bad input');
  t.match(missing.err, /VERSION_NOT_FOUND/);
});

t.test('--keep grammar', async (t) => {
  t.same(parseKeep('all=2d,size=1GiB'), { allMs: 2 * 86_400_000, dailyMs: 30 * 86_400_000, weeklyMs: 365 * 86_400_000, maxBytes: 2 ** 30 });
  t.equal(parseKeep('size=none').maxBytes, Infinity);
  t.same(parseKeep('none'), { allMs: 0, dailyMs: 0, weeklyMs: 0, maxBytes: 0 });
  for (const bad of ['all', 'hourly=1h', 'all=1d,all=2d', 'all=5', 'size=5GB', '']) t.throws(() => parseKeep(bad), { exitCode: 2 }, bad);
});

t.test('--at and the restore selector', async (t) => {
  const now = Date.UTC(2026, 2, 1, 12);
  t.equal(parseAt('2h', now), now - 2 * 3_600_000);
  t.equal(parseAt('2026-03-01T09:30:00Z', now), Date.UTC(2026, 2, 1, 9, 30));
  t.throws(() => parseAt('yesterday', now), { exitCode: 2 });
  t.throws(() => restoreRequest('a', {}), { exitCode: 2 }, 'a selector is required');
  t.throws(() => restoreRequest('a', { version: '1', at: '2h', server: 'x' }), { exitCode: 2 }, 'not both');
  t.throws(() => restoreRequest('d', { folder: true, version: '1', server: 'x' }), { exitCode: 2 });
  t.same(restoreRequest('.', { folder: true, at: '1h', server: 'x' }, now), { path: '', folder: true, at: now - 3_600_000 });
});

t.test('run --keep applies the retention policy to its server, and a bad spec is a usage error', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  const bad = spawnCli(['run', '--cdir', cdir, '--sdir', sdir, '--port', '0', '--keep', 'hourly=1h']);
  t.equal((await bad.exited).code, 2, bad.stderr());
  t.match(bad.stderr(), /--keep/);

  // Two-way (run's default): quick saves, each awaited on the server, made conflict copies of this device's
  // own writes on a loaded machine until the joined marker (docs/RELIABILITY.md, Observations).
  const child = spawnCli(['run', '--cdir', cdir, '--sdir', sdir, '--port', '0', '--interval', '1s', '--keep', 'none']);
  t.teardown(() => child.proc.kill('SIGKILL'));
  await waitFor(() => child.stderr().includes('Ctrl-C to stop'), `run started (stderr: ${child.stderr()})`, 30_000);
  for (const text of ['v1', 'v2', 'v3']) {
    writeFileSync(join(cdir, 'note.txt'), text);
    await waitFor(() => readIfThere(join(sdir, 'note.txt')) === text, `note.txt reached the server as ${text}`).catch((err: Error) => {
      throw new Error(`${err.message}; server folder: ${readdirSync(sdir).join(', ')}; client folder: ${readdirSync(cdir).join(', ')}; run's stderr:\n${child.stderr()}`);
    });
  }
  // The default policy keeps every version for a day; `none` lets the pruner (2 s after the write) drop them.
  const token = createToken(sdir, { name: 'viewer', readOnly: true });
  const url = /server (http:\S+)\)/.exec(child.stderr())![1]!;
  await waitFor(async () => {
    const res = await fetch(`${url}/v1/history/note.txt`, { headers: { authorization: `Bearer ${token}` } });
    return ((await res.json()) as { versions: unknown[] }).versions.length === 0;
  }, 'the replaced versions of note.txt were pruned under --keep none', 30_000);
  child.proc.kill('SIGINT');
  t.equal((await child.exited).code, 0, child.stderr());
});

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
