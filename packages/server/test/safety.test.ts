import t from 'tap';
import { execFileSync } from 'node:child_process';
import { appendFileSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, readdirSync, rmdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer, createToken, LocalStorage, type Storage, type StagedFile } from '../src/index.js';
import { rawRequest, sha256, startServer, waitFor } from './support/harness.js';
import { seededBytes } from './support/seeded-bytes.js';
import { startPartialRequest } from './support/partial-request.js';

const octets = { 'content-type': 'application/octet-stream' };

t.test('a truncated upload leaves the old file intact and no staged file', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/f.bin', { headers: octets, body: 'old content' });
  const socket = await startPartialRequest(h.port, 'PUT', '/v1/files/f.bin', { ...octets, authorization: `Bearer ${h.token}` }, 100_000, Buffer.alloc(50_000, 1));
  await waitFor(() => h.stagedFiles().length > 0, 'the upload to be staged');
  socket.end(); // the body stops halfway through its declared length
  await waitFor(() => h.stagedFiles().length === 0, 'the staged file to be removed');
  t.equal(readFileSync(join(h.sdir, 'f.bin'), 'utf8'), 'old content');
  socket.destroy();
});

t.test('a client that disconnects mid-upload leaves no partial file and no staged file', async (t) => {
  const h = await startServer(t);
  const socket = await startPartialRequest(h.port, 'PUT', '/v1/files/new.bin', { ...octets, authorization: `Bearer ${h.token}` }, 10_000_000, Buffer.alloc(1_000_000, 2));
  await waitFor(() => h.stagedFiles().length > 0, 'the upload to be staged');
  socket.destroy();
  await waitFor(() => h.stagedFiles().length === 0, 'the staged file to be removed');
  t.same(readdirSync(h.sdir), ['.deltabox'], 'no partial file appeared');
  t.equal((await h.request('GET', '/v1/files/new.bin')).status, 404);
  t.equal(h.app.server.listening, true);
});

t.test('a reader downloading while a writer replaces the file sees only the old content', async (t) => {
  const h = await startServer(t);
  const size = 8 * 1024 * 1024;
  await h.request('PUT', '/v1/files/big.bin', { headers: octets, body: Buffer.alloc(size, 0x61) });
  const body = await new Promise<Buffer>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: h.port, path: '/v1/files/big.bin', headers: { authorization: `Bearer ${h.token}` }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.once('data', (first: Buffer) => {
        chunks.push(first);
        res.pause();
        // The writer replaces the file while the reader is mid-way.
        h.request('PUT', '/v1/files/big.bin', { headers: octets, body: Buffer.alloc(size, 0x62) }).then((put) => {
          if (put.status !== 200) reject(new Error(`writer failed: ${put.status}`));
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
          res.resume();
        }, reject);
      });
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(body.length, size);
  t.ok(body.every((b) => b === 0x61), 'every byte is from the old version');
  const after = await h.request('GET', '/v1/files/big.bin');
  t.ok(after.body.every((b) => b === 0x62), 'a later reader sees the new version whole');
});

t.test('stale staged files are swept at startup', async (t) => {
  const sdir = mkdtempSync(join(tmpdir(), 'dbx-sweep-'));
  t.teardown(() => rmSync(sdir, { recursive: true, force: true }));
  mkdirSync(join(sdir, '.deltabox', 'tmp'), { recursive: true });
  writeFileSync(join(sdir, '.deltabox', 'tmp', 'dead.staged'), 'junk');
  mkdirSync(join(sdir, '.deltabox', 'tmp', 'dead.trash'));
  const app = await buildServer({ sdir });
  t.same(readdirSync(join(sdir, '.deltabox', 'tmp')), []);
  await app.close();
});

t.test('a symlink planted as the staging folder is replaced, and nothing outside is touched', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'dbx-tmplink-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const sdir = join(base, 'served');
  const outside = join(base, 'outside');
  mkdirSync(join(sdir, '.deltabox'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'precious.txt'), 'keep me');
  symlinkSync(outside, join(sdir, '.deltabox', 'tmp'));
  const token = createToken(sdir, { name: 'd' });
  const app = await buildServer({ sdir });
  t.teardown(() => app.close());
  t.same(readdirSync(outside), ['precious.txt'], 'the startup sweep did not follow the link');
  t.ok(lstatSync(join(sdir, '.deltabox', 'tmp')).isDirectory(), 'the staging folder is a real folder now');
  symlinkSync(outside, join(sdir, '.deltabox', 'tmp2'));
  rmSync(join(sdir, '.deltabox', 'tmp'), { recursive: true });
  renameSync(join(sdir, '.deltabox', 'tmp2'), join(sdir, '.deltabox', 'tmp'));
  const put = await app.inject({ method: 'PUT', url: '/v1/files/a.txt', headers: { authorization: `Bearer ${token}`, ...octets }, payload: 'data' });
  t.equal(put.statusCode, 200, 'a link planted while running is replaced too');
  t.same(readdirSync(outside), ['precious.txt'], 'no staged bytes went outside');
});

t.test('a symlinked state database is refused at startup', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'dbx-dblink-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const sdir = join(base, 'served');
  mkdirSync(join(sdir, '.deltabox'), { recursive: true });
  writeFileSync(join(base, 'elsewhere.db'), '');
  symlinkSync(join(base, 'elsewhere.db'), join(sdir, '.deltabox', 'state.db'));
  await t.rejects(buildServer({ sdir }), /not a regular file/);
});

t.test('at startup the index catches up with files changed behind the server and journals them', async (t) => {
  const sdir = mkdtempSync(join(tmpdir(), 'dbx-reconcile-'));
  t.teardown(() => rmSync(sdir, { recursive: true, force: true }));
  const token = createToken(sdir, { name: 'd' });
  let app = await buildServer({ sdir });
  await app.inject({ method: 'PUT', url: '/v1/files/keep.txt', headers: { authorization: `Bearer ${token}`, ...octets }, payload: 'keep' });
  await app.inject({ method: 'PUT', url: '/v1/files/gone.txt', headers: { authorization: `Bearer ${token}`, ...octets }, payload: 'gone' });
  await app.close();
  rmSync(join(sdir, 'gone.txt'));
  mkdirSync(join(sdir, 'added'));
  writeFileSync(join(sdir, 'added', 'new.txt'), 'new');
  app = await buildServer({ sdir });
  t.teardown(() => app.close());
  const auth = { authorization: `Bearer ${token}` };
  const manifest = (await app.inject({ method: 'GET', url: '/v1/files', headers: auth })).body.trim().split('\n').map((l) => JSON.parse(l));
  t.same(manifest.map((e) => e.path), ['added', 'added/new.txt', 'keep.txt']);
  t.equal(manifest[1].hash, await sha256('new'));
  const changes = (await app.inject({ method: 'GET', url: '/v1/changes?since=2', headers: auth })).json();
  t.same(changes.changes.map((c: { op: string; path: string }) => `${c.op} ${c.path}`).sort(), ['delete gone.txt', 'mkdir added', 'put added/new.txt'].sort());
  t.equal(changes.revision, 5, 'revisions continue after a restart');
});

/** Storage whose staged writes fail with ENOSPC past a byte budget, like a full disk. */
function fullDiskStorage(budget: number): (root: string) => Storage {
  return (root) => {
    const inner = new LocalStorage(root);
    const storage: Storage = {
      stat: (p) => inner.stat(p),
      walk: () => inner.walk(),
      open: (p) => inner.open(p),
      removeFile: (p) => inner.removeFile(p),
      move: (a, b, o) => inner.move(a, b, o),
      makeDir: (p) => inner.makeDir(p),
      removeDir: (p, o) => inner.removeDir(p, o),
      sweepStaged: () => inner.sweepStaged(),
      keepVersion: (p, e) => inner.keepVersion(p, e),
      openVersion: (h) => inner.openVersion(h),
      removeVersion: (h) => inner.removeVersion(h),
      listVersions: () => inner.listVersions(),
      stage: async (): Promise<StagedFile> => {
        const staged = await inner.stage();
        return {
          get size() {
            return staged.size;
          },
          write: async (chunk) => {
            if (staged.size + chunk.length > budget) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            return staged.write(chunk);
          },
          digest: () => staged.digest(),
          commit: (p, m, publish) => staged.commit(p, m, publish),
          discard: () => staged.discard(),
        };
      },
    };
    return storage;
  };
}

t.test('a full disk during an upload is 507 and the old version stays (injected ENOSPC)', async (t) => {
  const h = await startServer(t, { overrides: { storage: fullDiskStorage(100_000) } });
  await h.request('PUT', '/v1/files/f.bin', { headers: octets, body: 'old' });
  const res = await h.request('PUT', '/v1/files/f.bin', { headers: octets, body: Buffer.alloc(500_000) });
  t.equal(res.status, 507);
  t.equal(res.json().code, 'INSUFFICIENT_STORAGE');
  t.notMatch(res.json().message, h.base, 'the message does not reveal server paths');
  t.equal(readFileSync(join(h.sdir, 'f.bin'), 'utf8'), 'old');
  t.same(h.stagedFiles(), []);
});

/** Mounts a 4 MiB tmpfs (root only); undefined when that is not allowed here. */
function mountSmallTmpfs(): string | undefined {
  const mountPoint = mkdtempSync(join(tmpdir(), 'dbx-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint], { stdio: 'ignore' });
    return mountPoint;
  } catch {
    rmdirSync(mountPoint);
    return undefined;
  }
}
const tmpfs = mountSmallTmpfs();
if (tmpfs) {
  t.teardown(() => {
    execFileSync('umount', [tmpfs]);
    rmdirSync(tmpfs);
  });
}

t.test('a full disk during an upload is 507 and the old version stays (real tmpfs)', {
  skip: tmpfs ? false : 'cannot mount a small tmpfs here (needs root); the injected-ENOSPC test covers the mapping',
}, async (t) => {
  const mountPoint = tmpfs!;
  const sdir = join(mountPoint, 'served');
  const token = createToken(sdir, { name: 'd' });
  const app = await buildServer({ sdir });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const port = (app.server.address() as { port: number }).port;
  const headers = { ...octets, authorization: `Bearer ${token}` };
  const old = seededBytes(1024 * 1024, 1);
  t.equal((await rawRequest(port, 'PUT', '/v1/files/f.bin', { headers, body: old })).status, 200);
  const res = await rawRequest(port, 'PUT', '/v1/files/f.bin', { headers, body: Buffer.alloc(6 * 1024 * 1024, 7) });
  t.equal(res.status, 507);
  t.equal(res.json().code, 'INSUFFICIENT_STORAGE');
  t.ok(readFileSync(join(sdir, 'f.bin')).equals(old), 'the old version is intact');
  t.same(readdirSync(join(sdir, '.deltabox', 'tmp')), [], 'the staged file is gone');
  t.notMatch(res.json().message, mountPoint, 'the message does not reveal server paths');
  t.equal((await rawRequest(port, 'PUT', '/v1/files/small.txt', { headers, body: 'fits' })).status, 200, 'the server recovers once space is free');

  // Now fill the disk to the last block: reads must still work, even with a token never used before.
  const fresh = createToken(sdir, { name: 'fresh' });
  const filler = join(mountPoint, 'filler');
  try {
    for (;;) appendFileSync(filler, Buffer.alloc(64 * 1024));
  } catch {
    /* ENOSPC: full */
  }
  try {
    for (;;) appendFileSync(filler, Buffer.alloc(512));
  } catch {
    /* ENOSPC: full to the block */
  }
  const read = await rawRequest(port, 'GET', '/v1/files/f.bin', { headers: { authorization: `Bearer ${fresh}` } });
  t.equal(read.status, 200, 'a read with a fresh token works on a full disk');
  const write = await rawRequest(port, 'PUT', '/v1/files/f.bin', { headers, body: 'x' });
  t.equal(write.status, 507, 'a write on a full disk is 507');
  t.ok(readFileSync(join(sdir, 'f.bin')).equals(old), 'and the old version is intact');
});
