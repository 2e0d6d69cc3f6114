/**
 * Two-way sync end to end (docs/SYNC.md): a real server on 127.0.0.1 and several device folders, each synced
 * by a fresh Scanner in `two-way` mode, one pass at a time (a device that syncs only then is "offline" in
 * between). Each scenario states its exact expectation on every device and on the server.
 */
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isConflictCopy } from '@deltabox/protocol';
import { Scanner } from '@deltabox/scanner';
import { buildServer } from '@deltabox/server';
import { mintToken, seededBytes, startServer, tempDir, waitFor } from './helpers/harness.js';

type Tap = typeof t;

async function world(t: Tap, devices = 2) {
  const base = tempDir(t);
  const sdir = join(base, 'server');
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const dirs = Array.from({ length: devices }, (_, i) => {
    const dir = join(base, `device${i}`);
    mkdirSync(dir);
    return dir;
  });
  const token = mintToken(sdir);
  /** One `scan --once` of device `i`. */
  const sync = async (i: number, opts: { allowMassDelete?: boolean } = {}) => {
    const scanner = new Scanner({ cdir: dirs[i]!, server: server.url, token, watch: false, intervalMs: 60_000, mode: 'two-way', ...opts });
    try {
      return await scanner.syncOnce();
    } finally {
      await scanner.stop();
    }
  };
  return { sdir, dirs, sync, server, token };
}

/**
 * A world whose server can hold the writes of chosen devices (each has its own token) until released: two
 * devices then merge at the same view before either's writes land, or one device's write meets a change another
 * device made after that device merged.
 */
async function gatedWorld(t: Tap, devices: number) {
  const base = tempDir(t);
  const sdir = join(base, 'server');
  const server = await buildServer({ sdir, logger: false });
  const held: Array<{ token: string; go: () => void }> = [];
  let holdTokens: string[] = [];
  server.addHook('onRequest', async (request) => {
    const auth = String(request.headers.authorization);
    if (request.method === 'GET' || request.method === 'HEAD' || !holdTokens.some((tok) => auth.includes(tok))) return;
    await new Promise<void>((go) => held.push({ token: auth, go }));
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => server.close());
  const address = server.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const dirs = Array.from({ length: devices }, (_, i) => join(base, `device${i}`));
  const tokens = dirs.map((_, i) => mintToken(sdir, `device${i}`));
  for (const dir of dirs) mkdirSync(dir);
  const sync = async (i: number) => {
    const scanner = new Scanner({ cdir: dirs[i]!, server: url, token: tokens[i]!, watch: false, intervalMs: 60_000, mode: 'two-way' });
    try {
      return await scanner.syncOnce();
    } finally {
      await scanner.stop();
    }
  };
  const gate = {
    hold: (which: number[]) => {
      holdTokens = which.map((i) => tokens[i]!);
    },
    holding: (i: number) => held.some((h) => h.token.includes(tokens[i]!)),
    release: () => {
      holdTokens = [];
      for (const h of held.splice(0)) h.go();
    },
  };
  return { sdir, dirs, tokens, sync, gate, url };
}

/**
 * Device 0 syncs with its writes held until device 1 has renamed folder f to g and synced that; then both sync
 * until they settle. Device 0's writes were planned from a view that still had f.
 */
async function moveFolderDuringSync(dirs: string[], sync: (i: number) => Promise<unknown>, gate: { hold(which: number[]): void; holding(i: number): boolean; release(): void }): Promise<void> {
  gate.hold([0]);
  const first = sync(0);
  await waitFor(() => gate.holding(0), 'device 0 sends its change');
  renameSync(join(dirs[1]!, 'f'), join(dirs[1]!, 'g'));
  await sync(1);
  gate.release();
  await first;
  for (let round = 0; round < 2; round++) for (const i of [0, 1]) await sync(i);
}

/** path -> content of every file in a tree (state folder skipped). */
function contents(root: string, dir = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(root, dir))) {
    if (dir === '' && name === '.deltabox') continue;
    const rel = dir === '' ? name : `${dir}/${name}`;
    const abs = join(root, rel);
    if (readdirSafe(abs)) Object.assign(out, contents(root, rel));
    else out[rel] = readFileSync(abs, 'utf8');
  }
  return out;
}

function readdirSafe(abs: string): boolean {
  try {
    readdirSync(abs);
    return true;
  } catch {
    return false;
  }
}

function copies(tree: Record<string, string>): string[] {
  return Object.keys(tree).filter((p) => isConflictCopy(p));
}

t.test('two devices edit the same file while offline: one conflict copy with the second writer\'s bytes, everywhere', async (t) => {
  const { sdir, dirs, sync } = await world(t);
  writeFileSync(join(dirs[0]!, 'notes.txt'), 'v0');
  await sync(0);
  await sync(1);
  t.same(contents(dirs[1]!), { 'notes.txt': 'v0' }, 'the second device got the file');
  writeFileSync(join(dirs[0]!, 'notes.txt'), 'first writer');
  writeFileSync(join(dirs[1]!, 'notes.txt'), 'second writer');
  await sync(0);
  await sync(1);
  await sync(0);
  const server = contents(sdir);
  t.equal(server['notes.txt'], 'first writer', 'the server version keeps the name');
  t.equal(copies(server).length, 1, 'exactly one conflict copy');
  t.equal(server[copies(server)[0]!], 'second writer', "the copy holds the second writer's bytes");
  t.match(copies(server)[0]!, /^notes \(conflicted copy .+ \d{4}-\d{2}-\d{2} \d{6}\)\.txt$/);
  t.same(contents(dirs[0]!), server, 'device 0 equals the server');
  t.same(contents(dirs[1]!), server, 'device 1 equals the server');
});

t.test('edit beats delete when the delete reaches the server first', async (t) => {
  const { sdir, dirs, sync } = await world(t);
  writeFileSync(join(dirs[0]!, 'a.txt'), 'v0');
  await sync(0);
  await sync(1);
  rmSync(join(dirs[0]!, 'a.txt'));
  writeFileSync(join(dirs[1]!, 'a.txt'), 'edited');
  await sync(0);
  t.same(contents(sdir), {}, 'the delete reached the server');
  await sync(1);
  await sync(0);
  for (const tree of [sdir, ...dirs]) t.same(contents(tree), { 'a.txt': 'edited' }, `${tree}: the edit survives`);
});

t.test('edit beats delete when the edit reaches the server first', async (t) => {
  const { sdir, dirs, sync } = await world(t);
  writeFileSync(join(dirs[0]!, 'a.txt'), 'v0');
  await sync(0);
  await sync(1);
  writeFileSync(join(dirs[1]!, 'a.txt'), 'edited');
  rmSync(join(dirs[0]!, 'a.txt'));
  await sync(1);
  await sync(0);
  await sync(1);
  for (const tree of [sdir, ...dirs]) t.same(contents(tree), { 'a.txt': 'edited' }, `${tree}: the edit survives`);
});

t.test('rename vs edit: the edit lands at the new path', async (t) => {
  const { sdir, dirs, sync } = await world(t);
  writeFileSync(join(dirs[0]!, 'old.txt'), 'original content');
  await sync(0);
  await sync(1);
  renameSync(join(dirs[0]!, 'old.txt'), join(dirs[0]!, 'new.txt'));
  writeFileSync(join(dirs[1]!, 'old.txt'), 'edited content');
  await sync(0);
  await sync(1);
  await sync(0);
  for (const tree of [sdir, ...dirs]) t.same(contents(tree), { 'new.txt': 'edited content' }, `${tree}`);
});

t.test('rename vs edit, the edit first: the edit lands at the new path (a file and a folder)', async (t) => {
  const { sdir, dirs, sync } = await world(t);
  mkdirSync(join(dirs[0]!, 'f'));
  writeFileSync(join(dirs[0]!, 'old.txt'), 'original content');
  writeFileSync(join(dirs[0]!, 'f/in.txt'), 'original inside');
  writeFileSync(join(dirs[0]!, 'f/same.txt'), 'untouched inside');
  await sync(0);
  await sync(1);
  renameSync(join(dirs[0]!, 'old.txt'), join(dirs[0]!, 'new.txt'));
  renameSync(join(dirs[0]!, 'f'), join(dirs[0]!, 'g'));
  writeFileSync(join(dirs[1]!, 'old.txt'), 'edited content');
  writeFileSync(join(dirs[1]!, 'f/in.txt'), 'edited inside');
  // The edits reach the server before the renames.
  await sync(1);
  await sync(0);
  await sync(1);
  const want = { 'new.txt': 'edited content', 'g/in.txt': 'edited inside', 'g/same.txt': 'untouched inside' };
  for (const tree of [sdir, ...dirs]) t.same(contents(tree), want, `${tree}: the edits at the new names, the old names gone`);
});

t.test('folder rename vs add: the file ends up in the renamed folder', async (t) => {
  const { sdir, dirs, sync } = await world(t);
  mkdirSync(join(dirs[0]!, 'f'));
  writeFileSync(join(dirs[0]!, 'f/one.txt'), 'one');
  await sync(0);
  await sync(1);
  renameSync(join(dirs[0]!, 'f'), join(dirs[0]!, 'g'));
  writeFileSync(join(dirs[1]!, 'f/two.txt'), 'two');
  await sync(0);
  await sync(1);
  await sync(0);
  for (const tree of [sdir, ...dirs]) t.same(contents(tree), { 'g/one.txt': 'one', 'g/two.txt': 'two' }, `${tree}`);
  t.notOk(existsSync(join(dirs[1]!, 'f')), 'the old folder is gone on the adding device');
});

t.test('join with an empty folder downloads everything', async (t) => {
  const { sdir, dirs, sync } = await world(t);
  mkdirSync(join(dirs[0]!, 'd/e'), { recursive: true });
  for (let i = 0; i < 12; i++) writeFileSync(join(dirs[0]!, `d/e/f${i}.txt`), `file ${i}`);
  writeFileSync(join(dirs[0]!, 'top.txt'), 'top');
  await sync(0);
  const summary = await sync(1);
  t.same(contents(dirs[1]!), contents(sdir), 'the new device holds everything');
  t.equal(Object.keys(contents(dirs[1]!)).length, 13);
  t.equal(summary.uploads + summary.deltas + summary.moves + summary.deletes, 0, 'nothing was sent back');
});

t.test('join with overlapping files: equal content costs nothing, different content makes a conflict copy', async (t) => {
  const { sdir, dirs, sync } = await world(t);
  writeFileSync(join(dirs[0]!, 'same.txt'), 'same');
  writeFileSync(join(dirs[0]!, 'differs.txt'), 'server side');
  writeFileSync(join(dirs[0]!, 'only-server.txt'), 'server only');
  await sync(0);
  writeFileSync(join(dirs[1]!, 'same.txt'), 'same');
  writeFileSync(join(dirs[1]!, 'differs.txt'), 'joining side');
  writeFileSync(join(dirs[1]!, 'only-joiner.txt'), 'joiner only');
  await sync(1);
  await sync(0);
  const server = contents(sdir);
  t.equal(server['same.txt'], 'same');
  t.equal(server['differs.txt'], 'server side', 'the server version keeps the name');
  t.equal(server['only-server.txt'], 'server only');
  t.equal(server['only-joiner.txt'], 'joiner only');
  t.equal(copies(server).length, 1, 'one conflict copy, for the file that differs');
  t.equal(server[copies(server)[0]!], 'joining side');
  t.same(contents(dirs[0]!), server);
  t.same(contents(dirs[1]!), server);
});

t.test("one device's clock set years ahead: files touched with future mtimes change nothing", async (t) => {
  const { sdir, dirs, sync } = await world(t);
  writeFileSync(join(dirs[0]!, 'a.txt'), 'content a');
  writeFileSync(join(dirs[0]!, 'b.txt'), 'content b');
  await sync(0);
  await sync(1);
  const future = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  for (const name of ['a.txt', 'b.txt']) utimesSync(join(dirs[1]!, name), future, future);
  writeFileSync(join(dirs[0]!, 'a.txt'), 'newer edit from the other device');
  await sync(1);
  await sync(0);
  await sync(1);
  const expected = { 'a.txt': 'newer edit from the other device', 'b.txt': 'content b' };
  for (const tree of [sdir, ...dirs]) t.same(contents(tree), expected, `${tree}: the real edit wins, no conflict copy`);
});

t.test('60% of the files deleted on one device: the other device stops, deletes nothing, says why', async (t) => {
  const { sdir, dirs, sync } = await world(t);
  for (let i = 0; i < 20; i++) writeFileSync(join(dirs[0]!, `f${i}.txt`), `file ${i}`);
  await sync(0);
  await sync(1);
  for (let i = 0; i < 12; i++) rmSync(join(dirs[0]!, `f${i}.txt`));
  await t.rejects(sync(0), { code: 'MASS_DELETE' }, 'the deleting device stops first');
  t.equal(Object.keys(contents(sdir)).length, 20, 'nothing deleted on the server');
  await sync(0, { allowMassDelete: true });
  t.equal(Object.keys(contents(sdir)).length, 8, 'confirmed on that device');
  await t.rejects(sync(1), { code: 'MASS_DELETE', message: /would delete 12 of this folder's 20 files/ });
  t.equal(Object.keys(contents(dirs[1]!)).length, 20, 'nothing deleted on the other device');
});

t.test('device folder unmounted: nothing is deleted anywhere', async (t) => {
  const { sdir, dirs, sync } = await world(t);
  for (let i = 0; i < 5; i++) writeFileSync(join(dirs[0]!, `f${i}.txt`), `file ${i}`);
  await sync(0);
  await sync(1);
  renameSync(dirs[1]!, `${dirs[1]!}-unmounted`);
  mkdirSync(dirs[1]!);
  // The state went away with the folder: the empty folder in its place joins (a union merge that deletes nothing).
  await sync(1);
  t.equal(Object.keys(contents(sdir)).length, 5, 'the server kept every file');
  t.equal(Object.keys(contents(dirs[1]!)).length, 5, 'the empty folder was filled, not mirrored onto the server');
  await sync(0);
  t.equal(Object.keys(contents(dirs[0]!)).length, 5, 'the other device kept every file');
});

t.test('the device pointed at another (empty) server folder: it joins that server, nothing is deleted here', async (t) => {
  const { dirs, sync } = await world(t, 1);
  for (let i = 0; i < 3; i++) writeFileSync(join(dirs[0]!, `f${i}.txt`), `file ${i}`);
  await sync(0);
  // A new server (a reinstall, another machine, a restored backup elsewhere): its folder is empty, its journal
  // knows nothing of this device's base.
  const other = join(tempDir(t), 'other-server');
  const server2 = await startServer(other);
  t.teardown(() => server2.close());
  const token2 = mintToken(other);
  const scanner = new Scanner({ cdir: dirs[0]!, server: server2.url, token: token2, watch: false, intervalMs: 60_000, mode: 'two-way' });
  try {
    await scanner.syncOnce();
  } finally {
    await scanner.stop();
  }
  const want = { 'f0.txt': 'file 0', 'f1.txt': 'file 1', 'f2.txt': 'file 2' };
  t.same(contents(dirs[0]!), want, 'every local file kept');
  t.same(contents(other), want, 'and sent to the new server');
});

/**
 * An HTTP proxy that forwards everything but drops the answer to the first write of `path` (after the server
 * committed it): its PUT or PATCH, or the first batch (small edits go in one; the tests using this change one file).
 */
async function answerDroppingProxy(t: Tap, upstream: string, path: string): Promise<{ url: string; dropped: () => number }> {
  const { createServer, request } = await import('node:http');
  let dropped = 0;
  const target = new URL(upstream);
  const proxy = createServer((req, res) => {
    const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const url = decodeURIComponent(req.url ?? '');
      const isWrite = ((req.method === 'PUT' || req.method === 'PATCH') && url.endsWith(`/v1/files/${path}`)) || (req.method === 'POST' && url === '/v1/batch');
      if (isWrite && dropped === 0) {
        dropped++;
        answer.resume();
        answer.on('end', () => req.socket.destroy());
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => proxy.close(() => r())));
  proxy.closeAllConnections?.();
  const address = proxy.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, dropped: () => dropped };
}

t.test('a lost answer after a commit: the retry makes no conflict copy', async (t) => {
  const { sdir, dirs, sync, server, token } = await world(t);
  writeFileSync(join(dirs[0]!, 'a.txt'), 'v0');
  await sync(0);
  await sync(1);
  const proxy = await answerDroppingProxy(t, server.url, 'a.txt');
  writeFileSync(join(dirs[1]!, 'a.txt'), 'edited behind a flaky network');
  const flaky = new Scanner({ cdir: dirs[1]!, server: proxy.url, token, watch: false, intervalMs: 60_000, mode: 'two-way' });
  // The cut answer is retried in the same run (or the run fails as unreachable): either way, then merged.
  await flaky.syncOnce().catch((err: { code?: string }) => t.equal(err.code, 'UNREACHABLE'));
  await flaky.stop();
  t.equal(proxy.dropped(), 1, 'the proxy dropped one answer');
  t.equal(contents(sdir)['a.txt'], 'edited behind a flaky network', 'the server had committed the write');
  await sync(1);
  await sync(0);
  for (const tree of [sdir, ...dirs]) t.same(contents(tree), { 'a.txt': 'edited behind a flaky network' }, `${tree}: no conflict copy`);
});

t.test('two running devices: a change saved on one appears on the other through the journal long-poll', async (t) => {
  const { sdir, dirs, server, token } = await world(t);
  const running = dirs.map((cdir) => new Scanner({ cdir, server: server.url, token, watch: true, intervalMs: 60_000, mode: 'two-way' }));
  t.teardown(() => Promise.all(running.map((s) => s.stop())));
  for (const s of running) await s.start();
  writeFileSync(join(dirs[0]!, 'live.txt'), 'saved on device 0');
  // The periodic scan is a minute away: only the watcher (device 0) and the long-poll (device 1) can do it.
  await waitFor(() => existsSync(join(dirs[1]!, 'live.txt')), 'the file reaches device 1', 10_000);
  t.equal(readFileSync(join(dirs[1]!, 'live.txt'), 'utf8'), 'saved on device 0');
  writeFileSync(join(dirs[1]!, 'live.txt'), 'edited on device 1');
  await waitFor(() => readFileSync(join(dirs[0]!, 'live.txt'), 'utf8') === 'edited on device 1', 'the edit comes back to device 0', 10_000);
  t.same(contents(sdir), { 'live.txt': 'edited on device 1' });
});

t.test('a device started while the server is down hears of other devices\' changes through the long-poll once it is back', async (t) => {
  // Multi-device seed 405: such a device never started its long-poll, and only the periodic check (here a
  // minute away) could have told it of other devices' changes.
  const { CuttingProxy } = await import('./helpers/cutting-proxy.js');
  const { dirs, server, token, sync } = await world(t);
  writeFileSync(join(dirs[1]!, 'before.txt'), 'from device 1');
  await sync(1);
  await sync(0);
  const proxy = await CuttingProxy.start(Number(new URL(server.url).port));
  t.teardown(() => proxy.close());
  proxy.setRefusing(true);
  const scanner = new Scanner({ cdir: dirs[0]!, server: proxy.url, token, watch: true, intervalMs: 60_000, mode: 'two-way' });
  t.teardown(() => scanner.stop());
  await scanner.start(); // the server is unreachable: it starts offline
  proxy.setRefusing(false);
  await waitFor(() => scanner.progress().offline === false, 'the device is back online', 45_000);
  writeFileSync(join(dirs[1]!, 'after.txt'), 'saved on device 1 later');
  await sync(1);
  await waitFor(() => existsSync(join(dirs[0]!, 'after.txt')), 'device 1\'s new file reaches device 0 without waiting for the periodic check', 15_000);
  t.equal(readFileSync(join(dirs[0]!, 'after.txt'), 'utf8'), 'saved on device 1 later');
});

t.test('the pull of a small edit in a big file is delta-sized on the wire', async (t) => {
  const { sdir, dirs, sync } = await world(t);
  const size = 4 * 1024 * 1024;
  const big = seededBytes(7, size);
  writeFileSync(join(dirs[0]!, 'big.bin'), big);
  await sync(0);
  await sync(1);
  big.write('a small edit in the middle', size / 2);
  writeFileSync(join(dirs[0]!, 'big.bin'), big);
  await sync(0);
  const pulled = await sync(1);
  t.ok(readFileSync(join(dirs[1]!, 'big.bin')).equals(big), 'device 1 has the edited file, byte for byte');
  t.ok(readFileSync(join(sdir, 'big.bin')).equals(big));
  t.ok(pulled.receivedBytes < size / 20, `received ${pulled.receivedBytes} bytes for a ${size}-byte file (a delta, not the file)`);
  t.comment(`pull of a 26-byte edit in a ${size}-byte file: ${pulled.receivedBytes} bytes received, ${pulled.sentBytes} sent`);
});

t.test('a folder renamed on one device is renamed on the other: no byte of its files is downloaded again', async (t) => {
  const { sdir, dirs, sync } = await world(t);
  const size = 4 * 1024 * 1024;
  mkdirSync(join(dirs[0]!, 'photos/2026'), { recursive: true });
  writeFileSync(join(dirs[0]!, 'photos/2026/big.bin'), seededBytes(11, size));
  writeFileSync(join(dirs[0]!, 'photos/2026/small.txt'), 'caption');
  writeFileSync(join(dirs[0]!, 'photos/run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  // More files than the mass-delete guard's minimum: a rename is not a delete, so it must not trip it.
  const notes: Record<string, string> = {};
  mkdirSync(join(dirs[0]!, 'photos/notes'));
  for (let i = 0; i < 12; i++) {
    writeFileSync(join(dirs[0]!, `photos/notes/n${i}.txt`), `note ${i}`);
    notes[`pictures/notes/n${i}.txt`] = `note ${i}`;
  }
  await sync(0);
  await sync(1);
  renameSync(join(dirs[0]!, 'photos'), join(dirs[0]!, 'pictures'));
  await sync(0);
  const pulled = await sync(1);
  const { hashFile } = await import('./helpers/harness.js');
  const { createHash } = await import('node:crypto');
  const bigHash = createHash('sha256').update(seededBytes(11, size)).digest('hex');
  for (const tree of [sdir, ...dirs]) {
    const { 'pictures/2026/big.bin': big, ...rest } = contents(tree);
    t.same(rest, { 'pictures/2026/small.txt': 'caption', 'pictures/run.sh': '#!/bin/sh\necho hi\n', ...notes }, `${tree}: the folder is renamed, nothing else`);
    t.ok(big !== undefined && hashFile(join(tree, 'pictures/2026/big.bin')) === bigHash, `${tree}: big.bin byte for byte`);
  }
  t.ok(pulled.receivedBytes < 64 * 1024, `device 1 received ${pulled.receivedBytes} bytes for a renamed folder holding ${size + 26 + 12 * 6} bytes`);
  t.equal(statSync(join(dirs[1]!, 'pictures/run.sh')).mode & 0o111, 0o111, 'the executable bit is kept');
  t.notOk(existsSync(join(dirs[1]!, 'photos')), 'the old folder is gone on device 1');
  t.comment(`folder rename pulled by device 1: ${pulled.receivedBytes} bytes received`);
});

t.test('a folder moved on two devices at once ends in one place: the move that reached the server first', async (t) => {
  const { sdir, dirs, sync } = await world(t);
  mkdirSync(join(dirs[0]!, 'd3/sub'), { recursive: true });
  const files: Record<string, string> = {};
  for (const name of ['a.txt', 'b.txt', 'sub/c.txt']) {
    writeFileSync(join(dirs[0]!, 'd3', name), `content of ${name}`);
    files[`x/${name}`] = `content of ${name}`;
  }
  writeFileSync(join(dirs[0]!, 'keep.txt'), 'untouched');
  files['keep.txt'] = 'untouched';
  await sync(0);
  await sync(1);
  renameSync(join(dirs[0]!, 'd3'), join(dirs[0]!, 'x'));
  renameSync(join(dirs[1]!, 'd3'), join(dirs[1]!, 'y'));
  await sync(0);
  await sync(1);
  await sync(0);
  for (const tree of [sdir, ...dirs]) t.same(contents(tree), files, `${tree}: one copy of the folder, at x`);
  t.notOk(existsSync(join(dirs[1]!, 'y')), 'device 1\'s own destination is gone (it held nothing else)');
});

/**
 * Folder d3 (three files) and keep.txt on every device; then device 2 (if any) deletes d3, device 0 renames it
 * to x and device 1 to y, and both movers sync at once from views that still had d3, their writes held until
 * both have merged and started sending. Returns the winner (the folder name the server ended with) and the
 * tree every folder must equal, after two more rounds on every device.
 */
async function twoMovers(t: Tap, devices: 2 | 3): Promise<{ sdir: string; dirs: string[]; winner: string; expected: Record<string, string> }> {
  const { sdir, dirs, sync, gate } = await gatedWorld(t, devices);
  const all = dirs.map((_, i) => i);
  mkdirSync(join(dirs[0]!, 'd3/sub'), { recursive: true });
  const names = ['a.txt', 'b.txt', 'sub/c.txt'];
  for (const name of names) writeFileSync(join(dirs[0]!, 'd3', name), `content of ${name}`);
  writeFileSync(join(dirs[0]!, 'keep.txt'), 'untouched');
  for (const i of all) await sync(i);
  if (devices === 3) {
    rmSync(join(dirs[2]!, 'd3'), { recursive: true });
    await sync(2);
  }
  renameSync(join(dirs[0]!, 'd3'), join(dirs[0]!, 'x'));
  renameSync(join(dirs[1]!, 'd3'), join(dirs[1]!, 'y'));
  gate.hold([0, 1]);
  const both = Promise.all([sync(0), sync(1)]);
  await waitFor(() => gate.holding(0) && gate.holding(1), 'both movers merged and started sending');
  gate.release();
  await both;
  for (let round = 0; round < 2; round++) for (const i of all) await sync(i);
  const winner = Object.keys(contents(sdir)).some((p) => p.startsWith('x/')) ? 'x' : 'y';
  const expected: Record<string, string> = { 'keep.txt': 'untouched' };
  for (const name of names) expected[`${winner}/${name}`] = `content of ${name}`;
  return { sdir, dirs, winner, expected };
}

t.test('a folder two devices moved while both were sending: the losing move\'s files are renamed, not sent as new ones', async (t) => {
  // One move reaches the server first, the other finds d3 gone (404) and merges: its files are renamed to the
  // winner's folder. (With a running scanner the files below the losing folder move can also be queued as new
  // files; transfer.test.ts holds that case.)
  const { sdir, dirs, winner, expected } = await twoMovers(t, 2);
  for (const tree of [sdir, ...dirs]) t.same(contents(tree), expected, `${tree}: the folder once, at ${winner}`);
});

t.test('a folder two devices moved while a third deleted it comes back once: the server arbitrates (two-way-folder-moved-twice)', async (t) => {
  const { sdir, dirs, winner, expected } = await twoMovers(t, 3);
  for (const tree of [sdir, ...dirs]) t.same(contents(tree), expected, `${tree}: the folder once, at ${winner} (move beats delete, once)`);
  t.notOk(existsSync(join(dirs[winner === 'x' ? 1 : 0]!, winner === 'x' ? 'y' : 'x', 'a.txt')), 'the losing mover\'s copy was renamed, not kept');
  for (const tree of [sdir, ...dirs]) t.same(readdirSync(tree).sort(), ['.deltabox', 'keep.txt', winner], `${tree}: the losing mover's folder is not left behind empty`);
});

t.test('a first sync of many files does not read its own writes back (the server says which records each write made)', async (t) => {
  const { sdir, dirs, sync } = await world(t, 1);
  for (let d = 0; d < 12; d++) {
    mkdirSync(join(dirs[0]!, `dir${d}`));
    for (let f = 0; f < 100; f++) writeFileSync(join(dirs[0]!, `dir${d}`, `f${f}.txt`), `file ${d}/${f}`);
  }
  const summary = await sync(0);
  t.equal(Object.keys(contents(sdir)).length, 1200, 'all sent');
  // 1,212 records of its own: read back they cost a journal page of 1,000 (over 100 KB) and then the whole
  // manifest (another 200 KB); the answers to the writes themselves are a few KB.
  t.ok(summary.receivedBytes < 60_000, `received ${summary.receivedBytes} bytes`);
  const again = await sync(0);
  t.equal(again.uploads + again.deltas, 0, 'and the next pass finds nothing to send');
});

t.test('a delete that meets another device\'s move of its folder: the file survives at the new path on every device (two-way-view-lost-entry)', async (t) => {
  const { sdir, dirs, sync, gate } = await gatedWorld(t, 2);
  mkdirSync(join(dirs[0]!, 'f'));
  writeFileSync(join(dirs[0]!, 'f', 'x.txt'), 'keep me');
  writeFileSync(join(dirs[0]!, 'f', 'y.txt'), 'other');
  await sync(0);
  await sync(1);
  // Device 0 deletes f/x.txt and has merged (its view: f/x.txt still there) when device 1's folder move lands.
  rmSync(join(dirs[0]!, 'f', 'x.txt'));
  await moveFolderDuringSync(dirs, sync, gate);
  const expected = { 'g/x.txt': 'keep me', 'g/y.txt': 'other' };
  // Before, the delete's 404 was taken for done: device 0's view dropped f/x.txt, the journal's move then had
  // nothing to carry, and device 0 never learnt that g/x.txt exists (at rest, "up to date", one file short).
  for (const tree of [sdir, ...dirs]) t.same(contents(tree), expected, `${tree}: the move wins over the delete, everywhere`);
});

t.test('an edit sent as a delta that meets another device\'s move of its folder lands at the new path, on every device (the server refuses the delta: PARENT_CHANGED)', async (t) => {
  const { sdir, dirs, sync, gate } = await gatedWorld(t, 2);
  mkdirSync(join(dirs[0]!, 'f'));
  const original = seededBytes(7, 64 * 1024).toString('hex'); // text, large enough to go as a delta
  writeFileSync(join(dirs[0]!, 'f', 'x.txt'), original);
  await sync(0);
  await sync(1);
  // Device 0 edits f/x.txt and has merged when device 1's folder move lands; its delta then finds no f/x.txt.
  const edited = `${original.slice(0, 1000)}EDITED${original.slice(1000)}`;
  writeFileSync(join(dirs[0]!, 'f', 'x.txt'), edited);
  await moveFolderDuringSync(dirs, sync, gate);
  // (The delta goes against the cached copy and the server refuses it for the moved parent. The other way in,
  // a delta against the server's signature that finds nothing there, is transfer.test.ts's "gone from the server".)
  for (const tree of [sdir, ...dirs]) t.same(contents(tree), { 'g/x.txt': edited }, `${tree}: the edit at the new path (rename vs edit)`);
});

t.test('a read-only token makes a download-only device: it pulls, keeps its own edits local, and finishes', async (t) => {
  const { sdir, dirs, sync, server } = await world(t);
  const { createToken } = await import('@deltabox/server');
  const readOnly = createToken(sdir, { name: 'viewer', readOnly: true });
  writeFileSync(join(dirs[0]!, 'a.txt'), 'from the writer');
  await sync(0);
  const viewer = async () => {
    const s = new Scanner({ cdir: dirs[1]!, server: server.url, token: readOnly, watch: false, intervalMs: 60_000, mode: 'two-way' });
    try {
      return await s.syncOnce();
    } finally {
      await s.stop();
    }
  };
  await viewer();
  t.same(contents(dirs[1]!), { 'a.txt': 'from the writer' }, 'pulled');
  writeFileSync(join(dirs[1]!, 'local-only.txt'), 'never sent');
  writeFileSync(join(dirs[0]!, 'a.txt'), 'second version');
  await sync(0);
  await viewer();
  t.same(contents(dirs[1]!), { 'a.txt': 'second version', 'local-only.txt': 'never sent' });
  t.same(contents(sdir), { 'a.txt': 'second version' }, 'nothing was sent');
});

t.test('a file edited again while its upload is on the wire makes no conflict copy of this device\'s own write', async (t) => {
  const { CuttingProxy } = await import('./helpers/cutting-proxy.js');
  const { hashFile } = await import('./helpers/harness.js');
  const { createHash } = await import('node:crypto');
  const { sdir, dirs, server, token } = await world(t, 1);
  const proxy = await CuttingProxy.start(Number(new URL(server.url).port));
  t.teardown(() => proxy.close());
  // Small files go in batches, whose snapshots are recorded before the request is sent.
  const file = join(dirs[0]!, 'notes.bin');
  const size = 40_000;
  writeFileSync(file, seededBytes(1, size));
  const scanner = new Scanner({ cdir: dirs[0]!, server: proxy.url, token, watch: false, intervalMs: 60_000, mode: 'two-way' });
  t.teardown(() => scanner.stop());
  await scanner.start();
  await scanner.waitForIdle();
  let held = false;
  let scanned = false;
  // The second save's upload stalls half-way; meanwhile the file is saved a third time and scanned, so the
  // server acknowledges a version the folder no longer holds.
  proxy.holdWhenSent(proxy.sentBytes + size / 2, async () => {
    held = true;
    writeFileSync(file, seededBytes(3, size + 1));
    await Promise.race([scanner.scanNow().then(() => { scanned = true; }), new Promise((r) => setTimeout(r, 5_000))]);
  });
  writeFileSync(file, seededBytes(2, size));
  const v3 = createHash('sha256').update(seededBytes(3, size + 1)).digest('hex');
  await scanner.scanNow();
  await waitFor(() => held && hashFile(join(sdir, 'notes.bin')) === v3, 'the third save reaches the server', 60_000);
  await scanner.waitForIdle();
  t.ok(held, 'the upload was held mid-way and the file saved again meanwhile');
  t.ok(scanned, 'a scan recorded the third save while the second was still on the wire');
  t.same(readdirSync(sdir).filter((n) => n !== '.deltabox'), ['notes.bin'], 'no conflict copy on the server');
  t.same(readdirSync(dirs[0]!).filter((n) => n !== '.deltabox'), ['notes.bin'], 'no conflict copy in the folder');
  t.equal(hashFile(file), v3, 'the folder keeps the third save');
});

t.test('a merge that starts while the first upload of a joined, empty folder is on the wire makes no conflict copy of it', async (t) => {
  // The self-conflict seen under load (docs/RELIABILITY.md): another device's record starts a merge while this
  // device's first file is still being sent; its base is empty then, and an empty base used to mean "joining",
  // so the merge trusted no base and made the next save of that file a conflict copy of this device's own write.
  const { CuttingProxy } = await import('./helpers/cutting-proxy.js');
  const { hashFile } = await import('./helpers/harness.js');
  const { createHash } = await import('node:crypto');
  const { sdir, dirs, server, token, sync } = await world(t, 2);
  const proxy = await CuttingProxy.start(Number(new URL(server.url).port));
  t.teardown(() => proxy.close());
  const scanner = new Scanner({ cdir: dirs[0]!, server: proxy.url, token, watch: false, intervalMs: 60_000, mode: 'two-way' });
  t.teardown(() => scanner.stop());
  await scanner.start();
  await scanner.waitForIdle();
  const file = join(dirs[0]!, 'notes.bin');
  const size = 40_000;
  let held = false;
  proxy.holdWhenSent(proxy.sentBytes + size / 2, async () => {
    held = true;
    // Device 1 writes meanwhile: device 0's journal long-poll hears of it and starts a merge, which waits
    // for the held upload; the file is saved again before that upload is acknowledged.
    writeFileSync(join(dirs[1]!, 'other.txt'), 'from device 1');
    await sync(1);
    writeFileSync(file, seededBytes(2, size + 1));
    await new Promise((r) => setTimeout(r, 1_500));
  });
  writeFileSync(file, seededBytes(1, size));
  await scanner.scanNow();
  const v2 = createHash('sha256').update(seededBytes(2, size + 1)).digest('hex');
  // Settled either way: device 1's file is here, and the server holds what the folder holds.
  await waitFor(async () => {
    await scanner.scanNow();
    return held && existsSync(join(dirs[0]!, 'other.txt')) && existsSync(join(sdir, 'notes.bin')) && hashFile(join(sdir, 'notes.bin')) === hashFile(file);
  }, 'device 1\'s file reaches device 0 and the server holds the folder\'s notes.bin', 60_000);
  await scanner.waitForIdle();
  t.ok(held, 'the first upload was held mid-way while device 1 wrote and the file was saved again');
  t.same(readdirSync(sdir).filter((n) => n !== '.deltabox').sort(), ['notes.bin', 'other.txt'], 'no conflict copy on the server');
  t.same(readdirSync(dirs[0]!).filter((n) => n !== '.deltabox').sort(), ['notes.bin', 'other.txt'], 'no conflict copy in the folder');
  t.equal(hashFile(file), v2, 'the folder keeps the second save');
});

t.test('restore version 2 after five edits: the v2 bytes reach every device (issue 13 through two-way sync)', async (t) => {
  const { createHash } = await import('node:crypto');
  const { sdir, dirs, sync, server, token } = await world(t, 2);
  for (let v = 1; v <= 5; v++) {
    writeFileSync(join(dirs[0]!, 'report.txt'), `report version ${v}\n`);
    await sync(0);
  }
  await sync(1);
  t.equal(readFileSync(join(dirs[1]!, 'report.txt'), 'utf8'), 'report version 5\n', 'device 1 holds v5 before the restore');
  const auth = { authorization: `Bearer ${token}` };
  const history = (await (await fetch(`${server.url}/v1/history/report.txt`, { headers: auth })).json()) as { versions: Array<{ id: number; hash: string }> };
  const v2hash = createHash('sha256').update('report version 2\n').digest('hex');
  const v2 = history.versions.find((v) => v.hash === v2hash);
  t.ok(v2, 'v2 is in the history');
  const res = await fetch(`${server.url}/v1/restore`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ path: 'report.txt', versionId: v2!.id }) });
  t.equal(res.status, 200, 'the restore is accepted');
  await sync(0);
  await sync(1);
  for (const root of [sdir, dirs[0]!, dirs[1]!]) t.equal(readFileSync(join(root, 'report.txt'), 'utf8'), 'report version 2\n', `v2 at ${root === sdir ? 'the server' : root}`);
  for (const root of [sdir, dirs[0]!, dirs[1]!]) t.same(copies(contents(root)), [], 'no conflict copy');
});

t.test('a download cut before a restart resumes from its part file; a push-mode start drops the parts', async (t) => {
  const { dirs, sync, sdir, server, token } = await world(t, 2);
  await sync(1); // device1's state exists: its next run is a restart
  const big = seededBytes(4242, 3 * 1024 * 1024);
  writeFileSync(join(dirs[0]!, 'big.bin'), big);
  await sync(0);
  t.same(readFileSync(join(sdir, 'big.bin')), big);
  // What a run cut after 2 MiB leaves (merge-apply.ts #fetchWhole, local-apply.ts partFileName).
  const hash = createHash('sha256').update(big).digest('hex');
  const partName = `pull-part-${createHash('sha256').update('big.bin').digest('hex').slice(0, 24)}-${hash.slice(0, 24)}`;
  const tmp = join(dirs[1]!, '.deltabox', 'tmp');
  writeFileSync(join(tmp, partName), big.subarray(0, 2 * 1024 * 1024));
  writeFileSync(join(tmp, 'pull-0123456789abcdef'), 'a plain temp file of the cut run');
  const summary = await sync(1);
  t.same(readFileSync(join(dirs[1]!, 'big.bin')), big, 'the file arrived whole and right');
  t.ok(summary.receivedBytes < 1.5 * 1024 * 1024, `only the rest was downloaded: ${summary.receivedBytes} B received of 3 MiB`);
  t.same(readdirSync(tmp), [], 'the part was used up and the plain temp file removed at start');

  // A push-mode scanner never merges, so nothing would ever resume or drop a part: it clears them at start.
  writeFileSync(join(tmp, partName), big.subarray(0, 1024 * 1024));
  const pusher = new Scanner({ cdir: dirs[1]!, server: server.url, token, watch: false, intervalMs: 60_000, mode: 'push' });
  await pusher.stop();
  t.same(readdirSync(tmp), [], 'a push-mode start removes part files');
});
