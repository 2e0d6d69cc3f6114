import t from 'tap';
import { readFileSync, renameSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { mediaTypes, expandRevisions, type BatchResponse, type CompactBatchResponse } from '@deltabox/protocol';
import { LocalStorage } from '../src/storage/local-storage.js';
import type { StagedFile } from '../src/storage/storage.js';
import { sha256, startServer } from './support/harness.js';
import { batchBody } from './support/multipart.js';

t.test('a batch writes many small files, each with its own result', async (t) => {
  const h = await startServer(t);
  const files = Array.from({ length: 50 }, (_, i) => ({ path: `small/f${i}.txt`, content: `content ${i}`, mtimeMs: 1_600_000_000_000 + i }));
  const { body, contentType } = batchBody([...files, { path: 'small/run.sh', content: '#!/bin/sh', executable: true }]);
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType }, body });
  t.equal(res.status, 200);
  const { results } = res.json<BatchResponse>();
  t.equal(results.length, 51);
  t.ok(results.every((r) => r.ok), 'every part succeeded');
  t.match(results[7], { path: 'small/f7.txt', ok: true, entry: { size: 9, hash: await sha256('content 7'), mtimeMs: 1_600_000_000_007 } });
  t.equal(readFileSync(join(h.sdir, 'small', 'f49.txt'), 'utf8'), 'content 49');
  t.equal(statSync(join(h.sdir, 'small', 'run.sh')).mode & 0o111, 0o111);
  t.same(h.stagedFiles(), []);
});

t.test('batch files get exactly 0644 or 0755, whatever the umask the server runs under', async (t) => {
  const h = await startServer(t);
  const old = process.umask(0o077); // staged files are created with the final mode; a umask that cuts it needs the chmod
  t.teardown(() => process.umask(old));
  const { body, contentType } = batchBody([{ path: 'modes/plain.txt', content: 'plain' }, { path: 'modes/run.sh', content: '#!/bin/sh', executable: true }]);
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType }, body });
  t.ok(res.json<BatchResponse>().results.every((r) => r.ok), 'both parts succeeded');
  t.equal(statSync(join(h.sdir, 'modes', 'plain.txt')).mode & 0o7777, 0o644);
  t.equal(statSync(join(h.sdir, 'modes', 'run.sh')).mode & 0o7777, 0o755);
  process.umask(0o022);
  const again = batchBody([{ path: 'modes/plain2.txt', content: 'plain' }, { path: 'modes/run2.sh', content: '#!/bin/sh', executable: true }]);
  await h.request('POST', '/v1/batch', { headers: { 'content-type': again.contentType }, body: again.body });
  t.equal(statSync(join(h.sdir, 'modes', 'plain2.txt')).mode & 0o7777, 0o644, 'under the usual umask too');
  t.equal(statSync(join(h.sdir, 'modes', 'run2.sh')).mode & 0o7777, 0o755, 'under the usual umask too');
});

t.test('a folder symlinked in the middle of a batch is refused for its parts only, the folders checked once stay checked', async (t) => {
  const h = await startServer(t);
  symlinkSync(h.sentinel, join(h.sdir, 'dirlink'));
  const { body, contentType } = batchBody([
    { path: 'real/a.txt', content: 'a' },
    { path: 'dirlink/evil.txt', content: 'evil' },
    { path: 'real/b.txt', content: 'b' },
    { path: 'dirlink/keep.txt', content: 'overwritten' },
    { path: 'real/deeper/c.txt', content: 'c' },
  ]);
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType }, body });
  t.equal(res.status, 200);
  t.same(res.json<BatchResponse>().results.map((r) => (r.ok ? 'ok' : r.error.code)), ['ok', 'BAD_PATH', 'ok', 'BAD_PATH', 'ok']);
  t.equal(readFileSync(join(h.sdir, 'real', 'deeper', 'c.txt'), 'utf8'), 'c');
  h.assertNothingOutside(t);
  t.same(h.stagedFiles(), []);
});

t.test('a bad part fails alone and the others are written', async (t) => {
  const h = await startServer(t, { limits: { batchMaxPartBytes: 1000 } });
  const { body, contentType } = batchBody([
    { path: 'good1.txt', content: 'one' },
    { path: 'badhash.txt', content: 'two', meta: { hash: 'f'.repeat(64) } },
    { path: '../escape.txt', content: 'three' },
    { path: 'short.txt', content: 'four', meta: { size: 10 } },
    { path: 'long.txt', content: 'five', meta: { size: 2 } },
    { path: 'huge.bin', content: Buffer.alloc(5000) },
    { path: 'orphan.txt', content: 'no meta', noMeta: true },
    { path: 'badmeta.txt', content: 'x', meta: { mtimeMs: 'yesterday' } },
    { path: 'good2.txt', content: 'six' },
  ]);
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType }, body });
  t.equal(res.status, 200);
  const codes = res.json<BatchResponse>().results.map((r) => (r.ok ? 'ok' : r.error.code));
  t.same(codes, ['ok', 'HASH_MISMATCH', 'BAD_PATH', 'TRUNCATED_UPLOAD', 'BAD_REQUEST', 'PAYLOAD_TOO_LARGE', 'BAD_REQUEST', 'BAD_REQUEST', 'ok']);
  const manifest = (await h.request('GET', '/v1/files')).body.toString().trim().split('\n').map((l) => JSON.parse(l).path);
  t.same(manifest, ['good1.txt', 'good2.txt'], 'only the good parts were written');
  t.same(h.stagedFiles(), []);
});

t.test('a batch that is not multipart is a bad request', async (t) => {
  const h = await startServer(t);
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal(res.status, 400);
  t.equal(res.json().code, 'BAD_REQUEST');
});

t.test('a batch over the file count limit is 413', async (t) => {
  const h = await startServer(t, { limits: { batchMaxFiles: 3 } });
  const { body, contentType } = batchBody(Array.from({ length: 6 }, (_, i) => ({ path: `f${i}`, content: 'x' })));
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType }, body });
  t.equal(res.status, 413);
  t.equal(res.json().code, 'PAYLOAD_TOO_LARGE');
  t.same(h.stagedFiles(), []);
});

t.test('a malformed or truncated multipart body is a clear 400, not a server error', async (t) => {
  const h = await startServer(t);
  const { body, contentType } = batchBody([{ path: 'a.txt', content: 'abc' }]);
  const truncated = await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType }, body: body.subarray(0, body.length - 30) });
  t.equal(truncated.status, 400);
  t.equal(truncated.json().code, 'TRUNCATED_UPLOAD', 'a body that ends early');
  const noBoundary = await h.request('POST', '/v1/batch', { headers: { 'content-type': 'multipart/form-data' }, body });
  t.equal(noBoundary.status, 400);
  t.equal(noBoundary.json().code, 'BAD_REQUEST');
  const wrongField = await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType }, body: body.toString().replace('name="meta"', 'name="other"') });
  t.equal(wrongField.json().code, 'BAD_REQUEST');
  t.same(h.stagedFiles(), []);
});

t.test('a batch is one group commit: its files are recorded in one transaction', async (t) => {
  let mirror: import('../src/mirror.js').Mirror | undefined;
  const h = await startServer(t, { overrides: { inspect: (parts) => void (mirror = parts.mirror) } });
  const record = mirror!.record.bind(mirror!);
  const recorded: string[][] = [];
  mirror!.record = (steps) => {
    recorded.push(steps.map((s) => `${s.change.op} ${s.change.path}`));
    return record(steps);
  };
  const files = Array.from({ length: 20 }, (_, i) => ({ path: `g/f${i}.txt`, content: `v${i}` }));
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': batchBody(files).contentType }, body: batchBody(files).body });
  t.ok(res.json<BatchResponse>().results.every((r) => r.ok));
  t.same(recorded, [['mkdir g', ...files.map((f) => `put ${f.path}`)]], 'one record call: the folder, then every file');
  t.same(h.stagedFiles(), []);
});

t.test('a path given twice in one batch ends with the later part, as sequential commits would', async (t) => {
  const h = await startServer(t);
  const { body, contentType } = batchBody([
    { path: 'twice.txt', content: 'first' },
    { path: 'other.txt', content: 'other' },
    { path: 'twice.txt', content: 'second' },
  ]);
  const { results } = (await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType }, body })).json<BatchResponse>();
  t.same(results.map((r) => [r.path, r.ok]), [['twice.txt', true], ['other.txt', true], ['twice.txt', true]]);
  t.equal(readFileSync(join(h.sdir, 'twice.txt'), 'utf8'), 'second');
  const manifest = (await h.request('GET', '/v1/files')).body.toString().trim().split('\n').map((l) => JSON.parse(l) as { path: string; hash: string });
  t.equal(manifest.find((e) => e.path === 'twice.txt')?.hash, await sha256('second'));
  t.same(h.stagedFiles(), []);
});

t.test('when the group transaction fails every file of the batch is put back and each part says so', async (t) => {
  let mirror: import('../src/mirror.js').Mirror | undefined;
  const h = await startServer(t, { overrides: { inspect: (parts) => void (mirror = parts.mirror) } });
  const before = batchBody([{ path: 'keep.txt', content: 'old' }]);
  await h.request('POST', '/v1/batch', { headers: { 'content-type': before.contentType }, body: before.body });
  const record = mirror!.record.bind(mirror!);
  mirror!.record = () => {
    throw new Error('disk I/O error');
  };
  const { body, contentType } = batchBody([{ path: 'keep.txt', content: 'new' }, { path: 'fresh/new.txt', content: 'x' }]);
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType }, body });
  mirror!.record = record;
  t.same(res.json<BatchResponse>().results.map((r) => (r.ok ? 'ok' : r.error.code)), ['INTERNAL', 'INTERNAL']);
  t.equal(readFileSync(join(h.sdir, 'keep.txt'), 'utf8'), 'old', 'the previous version is back');
  t.throws(() => statSync(join(h.sdir, 'fresh', 'new.txt')), { code: 'ENOENT' }, 'the new file is gone');
  const paths = (await h.request('GET', '/v1/files')).body.toString().trim().split('\n').map((l) => JSON.parse(l).path);
  t.notOk(paths.includes('fresh/new.txt'));
  t.same(h.stagedFiles(), []);
});

t.test('a client that accepts the compact answer gets each file\'s revision and details only for failures', async (t) => {
  const h = await startServer(t);
  const { body, contentType } = batchBody([
    { path: 'a.txt', content: 'one' },
    { path: 'bad.txt', content: 'two', meta: { hash: 'f'.repeat(64) } },
    { path: 'b.txt', content: 'three' },
    { path: 'c.txt', content: 'four' },
  ]);
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType, accept: mediaTypes.batchCompact }, body });
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], mediaTypes.batchCompact);
  const compact = res.json<CompactBatchResponse>();
  t.match(compact, { failed: [{ index: 1, path: 'bad.txt', error: { code: 'HASH_MISMATCH' } }] });
  const manifest = new Map((await h.request('GET', '/v1/files')).body.toString().trim().split('\n').map((l) => JSON.parse(l)).map((e) => [e.path, e.revision]));
  t.same(expandRevisions(compact.revisions), ['a.txt', 'b.txt', 'c.txt'].map((p) => manifest.get(p)), 'revisions of the good parts, in order');
});

t.test('create-only parts (two-way devices) never replace another device\'s file, and honour x-deltabox-since', async (t) => {
  const h = await startServer(t);
  const send = async (files: Parameters<typeof batchBody>[0], headers: Record<string, string> = {}) => {
    const { body, contentType } = batchBody(files);
    const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType, ...headers }, body });
    t.equal(res.status, 200);
    return res.json<BatchResponse>().results;
  };
  t.ok((await send([{ path: 'same.txt', content: 'made on device A' }, { path: 'd/x.txt', content: 'x' }])).every((r) => r.ok));
  const results = await send([
    { path: 'same.txt', content: 'made on device B', meta: { ifNoneMatch: true } },
    { path: 'again.txt', content: 'new', meta: { ifNoneMatch: true } },
    { path: 'd/x.txt', content: 'x', meta: { ifNoneMatch: true } },
    { path: 'bad.txt', content: 'y', meta: { ifNoneMatch: 'yes' } },
  ]);
  t.same(results.map((r) => (r.ok ? 'ok' : r.error.code)), ['BASE_MISMATCH', 'ok', 'ok', 'BAD_REQUEST'], 'same content again is not a conflict');
  t.match(results[0], { ok: false, error: { currentHash: await sha256('made on device A') } });
  t.equal(readFileSync(join(h.sdir, 'same.txt'), 'utf8'), 'made on device A', 'the first device\'s file is untouched');
  // A folder moved after the device's view: a new file under its old name is refused, not made there again.
  const moved = await h.request('POST', '/v1/moves', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: 'd', to: 'e' }) });
  t.equal(moved.status, 200);
  const since = String(moved.json<{ revision: number }>().revision - 1);
  const late = await send([{ path: 'd/y.txt', content: 'late', meta: { ifNoneMatch: true } }], { 'x-deltabox-since': since });
  t.same(late.map((r) => (r.ok ? 'ok' : r.error.code)), ['PARENT_CHANGED']);
  t.notOk(statSync(join(h.sdir, 'd'), { throwIfNoEntry: false }), 'the old folder is not made again');
  t.same(h.stagedFiles(), []);
});

t.test('a folder swapped for a symlink after the batch checked it is not followed when the batch places its files', async (t) => {
  // Out of band, between the group's check of real/ and the placement of its second file, real/ becomes a
  // symlink to a folder outside the served one (the swap a hostile local user could race in). The group holds
  // its folders locked against deltabox's own operations only, so the placement must look again.
  let placed = 0;
  let sdir = '';
  let sentinel = '';
  class SwappingStorage extends LocalStorage {
    override async stage(): Promise<StagedFile> {
      const staged = await super.stage();
      return new Proxy(staged, {
        get(target, key) {
          const value = Reflect.get(target, key, target) as unknown;
          if (key !== 'place' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
          return async (...args: Parameters<StagedFile['place']>) => {
            if (++placed === 2) {
              renameSync(join(sdir, 'real'), join(sdir, 'real-moved'));
              symlinkSync(sentinel, join(sdir, 'real'));
            }
            return (value as StagedFile['place']).apply(target, args);
          };
        },
      });
    }
  }
  const h = await startServer(t, { overrides: { storage: (root) => new SwappingStorage(root) } });
  sdir = h.sdir;
  sentinel = h.sentinel;
  const { body, contentType } = batchBody([
    { path: 'real/one.txt', content: 'one' },
    { path: 'real/two.txt', content: 'two' },
    { path: 'real/keep.txt', content: 'would overwrite the sentinel' },
  ]);
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType }, body });
  t.equal(res.status, 200);
  const results = res.json<BatchResponse>().results;
  t.equal(placed, 3, 'each file reached its placement');
  t.same(results.map((r) => r.ok), [true, false, false], 'the files placed after the swap are refused');
  h.assertNothingOutside(t);
  t.equal(readFileSync(join(h.sdir, 'real-moved', 'one.txt'), 'utf8'), 'one', 'the first file went into the real folder');
  t.same(h.stagedFiles(), []);
});
