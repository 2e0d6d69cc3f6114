import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChangesResponse } from '@deltabox/protocol';
import { sha256, startServer, type Harness } from './support/harness.js';

const json = { 'content-type': 'application/json' };
const move = (h: Harness, body: object) => h.request('POST', '/v1/moves', { headers: json, body: JSON.stringify(body) });

t.test('a move renames a file without re-uploading it, creating parents and journaling it', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/a.txt', { body: 'content', headers: { 'x-deltabox-mtime-ms': '1500000000000' } });
  const since = Number((await h.request('GET', '/v1/changes')).json().revision);
  const res = await move(h, { from: 'a.txt', to: 'new/deep/b.txt', ifMatch: await sha256('content') });
  t.equal(res.status, 200);
  t.match(res.json(), { path: 'new/deep/b.txt', hash: await sha256('content'), size: 7, mtimeMs: 1500000000000 });
  t.notOk(existsSync(join(h.sdir, 'a.txt')));
  t.equal(readFileSync(join(h.sdir, 'new', 'deep', 'b.txt'), 'utf8'), 'content');
  const changes = (await h.request('GET', `/v1/changes?since=${since}`)).json<ChangesResponse>().changes;
  t.same(changes.map((c) => [c.op, c.path, c.from]), [['mkdir', 'new', undefined], ['mkdir', 'new/deep', undefined], ['move', 'new/deep/b.txt', 'a.txt']]);
  t.equal((await h.request('GET', '/v1/files/a.txt')).status, 404);
});

t.test('a move refuses an existing target unless overwrite, a stale ifMatch, and a missing source', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/a', { body: 'A' });
  await h.request('PUT', '/v1/files/b', { body: 'B' });
  t.equal((await move(h, { from: 'a', to: 'b' })).json().code, 'ALREADY_EXISTS');
  const stale = await move(h, { from: 'a', to: 'c', ifMatch: await sha256('old') });
  t.equal(stale.status, 412);
  t.match(stale.json(), { code: 'BASE_MISMATCH', currentHash: await sha256('A'), current: { path: 'a', hash: await sha256('A') } });
  t.equal((await move(h, { from: 'zzz', to: 'c' })).json().code, 'NOT_FOUND');
  t.equal((await move(h, { from: 'a' })).json().code, 'BAD_PATH', 'missing to');
  t.equal((await move(h, { from: 'a', to: 'c', overwrite: 'yes' })).json().code, 'BAD_REQUEST');
  t.equal((await h.request('POST', '/v1/moves', { headers: json, body: '[1]' })).json().code, 'BAD_REQUEST');
  const over = await move(h, { from: 'a', to: 'b', overwrite: true });
  t.equal(over.status, 200);
  t.equal(readFileSync(join(h.sdir, 'b'), 'utf8'), 'A');
  const manifest = (await h.request('GET', '/v1/files')).body.toString().trim().split('\n').map((l) => JSON.parse(l));
  t.same(manifest.map((e) => [e.path, e.hash]), [['b', await sha256('A')]]);
});

t.test('a folder move carries its subtree in the index', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/dir/x/1.txt', { body: '1' });
  await h.request('PUT', '/v1/files/dir/2.txt', { body: '2' });
  await h.request('PUT', '/v1/files/dir0', { body: 'sibling whose name sorts right after dir/' });
  const res = await move(h, { from: 'dir', to: 'renamed' });
  t.equal(res.status, 200);
  t.match(res.json(), { path: 'renamed', type: 'dir' });
  const paths = (await h.request('GET', '/v1/files')).body.toString().trim().split('\n').map((l) => JSON.parse(l).path);
  t.same(paths, ['dir0', 'renamed', 'renamed/2.txt', 'renamed/x', 'renamed/x/1.txt']);
  t.equal((await h.request('GET', '/v1/files/renamed/x/1.txt')).body.toString(), '1');
  t.equal((await move(h, { from: 'renamed', to: 'renamed/inside' })).json().code, 'TYPE_CONFLICT', 'into itself');
  await h.request('PUT', '/v1/dirs/other');
  t.equal((await move(h, { from: 'dir0', to: 'other', overwrite: true })).json().code, 'ALREADY_EXISTS', 'a folder is never replaced');
});

t.test('PUT /v1/dirs is mkdir -p and idempotent; DELETE removes empty or, with recursive=1, full folders', async (t) => {
  const h = await startServer(t);
  const made = await h.request('PUT', '/v1/dirs/a/b/c');
  t.equal(made.status, 200);
  t.match(made.json(), { path: 'a/b/c', type: 'dir', size: 0 });
  t.equal((await h.request('PUT', '/v1/dirs/a/b/c')).status, 200, 'again: still fine');
  await h.request('PUT', '/v1/files/a/b/file.txt', { body: 'f' });
  t.equal((await h.request('PUT', '/v1/dirs/a/b/file.txt')).json().code, 'TYPE_CONFLICT');
  t.equal((await h.request('PUT', '/v1/dirs/a/b/file.txt/sub')).json().code, 'TYPE_CONFLICT');
  t.equal((await h.request('DELETE', '/v1/dirs/a/b/c')).status, 204);
  const notEmpty = await h.request('DELETE', '/v1/dirs/a');
  t.equal(notEmpty.status, 400);
  t.match(notEmpty.json(), { code: 'BAD_REQUEST', message: /not empty/ });
  t.equal((await h.request('DELETE', '/v1/dirs/a/b/file.txt')).json().code, 'TYPE_CONFLICT');
  t.equal((await h.request('DELETE', '/v1/dirs/nope')).json().code, 'NOT_FOUND');
  const gone = await h.request('DELETE', '/v1/dirs/a?recursive=1');
  t.equal(gone.status, 204);
  t.notOk(existsSync(join(h.sdir, 'a')));
  t.same((await h.request('GET', '/v1/files')).body.toString(), '', 'the index forgot the subtree');
  const last = (await h.request('GET', '/v1/changes')).json<ChangesResponse>().changes.at(-1);
  t.match(last, { op: 'rmdir', path: 'a' });
  t.same(h.stagedFiles(), [], 'the trash was emptied');
});
