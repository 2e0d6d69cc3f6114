import t from 'tap';
import { statSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, startServer } from './support/harness.js';

const octets = { 'content-type': 'application/octet-stream' };

t.test('a PUT stores the file with its mtime and executable bit, and GET returns it', async (t) => {
  const h = await startServer(t);
  const put = await h.request('PUT', '/v1/files/docs/read%20me.txt', {
    headers: { ...octets, 'x-deltabox-mtime-ms': '1700000000123', 'x-deltabox-executable': '1' },
    body: 'hello world',
  });
  t.equal(put.status, 200);
  const entry = put.json();
  t.match(entry, { path: 'docs/read me.txt', type: 'file', size: 11, mtimeMs: 1700000000123, executable: true, hash: await sha256('hello world') });
  t.equal(put.headers.etag, `"${await sha256('hello world')}"`);
  const st = statSync(join(h.sdir, 'docs', 'read me.txt'));
  t.equal(Math.round(st.mtimeMs), 1700000000123, 'mtime applied with utimes');
  t.equal(st.mode & 0o111, 0o111, 'executable bit applied with chmod');

  const get = await h.request('GET', '/v1/files/docs/read%20me.txt');
  t.equal(get.status, 200);
  t.equal(get.body.toString(), 'hello world');
  t.equal(get.headers['x-deltabox-mtime-ms'], '1700000000123');
  t.equal(get.headers['x-deltabox-executable'], '1');
  t.equal(get.headers['accept-ranges'], 'bytes');
  t.same(h.stagedFiles(), [], 'no staged files left');
});

t.test('HEAD answers the entry headers without the bytes (a two-way device renaming a file asks for its mtime), 404 when absent', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/run.sh', { headers: { ...octets, 'x-deltabox-mtime-ms': '1700000000123', 'x-deltabox-executable': '1' }, body: 'echo hi' });
  const head = await h.request('HEAD', '/v1/files/run.sh');
  t.equal(head.status, 200);
  t.equal(head.body.length, 0, 'no bytes');
  t.equal(head.headers.etag, `"${await sha256('echo hi')}"`);
  t.equal(head.headers['x-deltabox-mtime-ms'], '1700000000123');
  t.equal(head.headers['x-deltabox-executable'], '1');
  t.equal((await h.request('HEAD', '/v1/files/nope.txt')).status, 404);
});

t.test('a replacing PUT without the executable header keeps the current bit', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/run.sh', { headers: { ...octets, 'x-deltabox-executable': '1' }, body: 'a' });
  const put = await h.request('PUT', '/v1/files/run.sh', { headers: octets, body: 'b' });
  t.equal(put.json().executable, true);
});

t.test('an empty file can be uploaded and downloaded', async (t) => {
  const h = await startServer(t);
  t.equal((await h.request('PUT', '/v1/files/empty', { headers: octets, body: '' })).status, 200);
  const get = await h.request('GET', '/v1/files/empty');
  t.equal(get.status, 200);
  t.equal(get.body.length, 0);
});

t.test('GET with Range returns 206 for a fitting range and 416 otherwise', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/r.bin', { headers: octets, body: '0123456789' });
  const mid = await h.request('GET', '/v1/files/r.bin', { headers: { range: 'bytes=2-5' } });
  t.equal(mid.status, 206);
  t.equal(mid.body.toString(), '2345');
  t.equal(mid.headers['content-range'], 'bytes 2-5/10');
  const open = await h.request('GET', '/v1/files/r.bin', { headers: { range: 'bytes=7-' } });
  t.equal(open.body.toString(), '789');
  const suffix = await h.request('GET', '/v1/files/r.bin', { headers: { range: 'bytes=-3' } });
  t.equal(suffix.body.toString(), '789');
  const past = await h.request('GET', '/v1/files/r.bin', { headers: { range: 'bytes=10-20' } });
  t.equal(past.status, 416);
  t.equal(past.json().code, 'RANGE_NOT_SATISFIABLE');
  t.equal(past.headers['content-range'], 'bytes */10');
  const multi = await h.request('GET', '/v1/files/r.bin', { headers: { range: 'bytes=0-1,4-5' } });
  t.equal(multi.status, 200, 'several ranges are ignored: the whole file');
});

t.test('GET of a missing file or of a folder is refused', async (t) => {
  const h = await startServer(t);
  t.equal((await h.request('GET', '/v1/files/nope')).json().code, 'NOT_FOUND');
  await h.request('PUT', '/v1/dirs/folder');
  const dir = await h.request('GET', '/v1/files/folder');
  t.equal(dir.status, 409);
  t.equal(dir.json().code, 'TYPE_CONFLICT');
});

t.test('a PUT whose body does not match x-deltabox-content-hash changes nothing', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/a.txt', { headers: octets, body: 'old' });
  const bad = await h.request('PUT', '/v1/files/a.txt', { headers: { ...octets, 'x-deltabox-content-hash': await sha256('something else') }, body: 'new' });
  t.equal(bad.status, 422);
  t.equal(bad.json().code, 'HASH_MISMATCH');
  t.equal(readFileSync(join(h.sdir, 'a.txt'), 'utf8'), 'old');
  const good = await h.request('PUT', '/v1/files/a.txt', { headers: { ...octets, 'x-deltabox-content-hash': await sha256('new') }, body: 'new' });
  t.equal(good.status, 200);
  t.same(h.stagedFiles(), []);
});

t.test('If-Match and If-None-Match guard a PUT', async (t) => {
  const h = await startServer(t);
  const first = await h.request('PUT', '/v1/files/g.txt', { headers: { ...octets, 'if-none-match': '*' }, body: 'v1' });
  t.equal(first.status, 200, 'create-only succeeds when absent');
  const current = { path: 'g.txt', type: 'file', size: 2, hash: await sha256('v1'), revision: first.json().revision };
  const again = await h.request('PUT', '/v1/files/g.txt', { headers: { ...octets, 'if-none-match': '*' }, body: 'v2' });
  t.equal(again.status, 412, 'create-only onto other content is a failed precondition');
  t.match(again.json(), { code: 'BASE_MISMATCH', currentHash: await sha256('v1'), current });
  const stale = await h.request('PUT', '/v1/files/g.txt', { headers: { ...octets, 'if-match': `"${await sha256('v0')}"` }, body: 'v2' });
  t.equal(stale.status, 412);
  t.match(stale.json(), { code: 'BASE_MISMATCH', currentHash: await sha256('v1'), current });
  const absent = await h.request('PUT', '/v1/files/none.txt', { headers: { ...octets, 'if-match': `"${await sha256('v0')}"` }, body: 'v2' });
  t.equal(absent.status, 412, 'If-Match on a path where nothing is');
  t.notOk('current' in absent.json(), 'no current entry when nothing is there');
  t.notOk('currentHash' in absent.json());
  t.equal(readFileSync(join(h.sdir, 'g.txt'), 'utf8'), 'v1');
  const ok = await h.request('PUT', '/v1/files/g.txt', { headers: { ...octets, 'if-match': `"${await sha256('v1')}"` }, body: 'v2' });
  t.equal(ok.status, 200);
  const badTag = await h.request('PUT', '/v1/files/g.txt', { headers: { ...octets, 'if-match': 'xyz' }, body: 'v3' });
  t.equal(badTag.json().code, 'BAD_REQUEST');
});

t.test('a PUT onto a folder, or below a file, is a type conflict', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/dirs/d');
  const onDir = await h.request('PUT', '/v1/files/d', { headers: octets, body: 'x' });
  t.equal(onDir.json().code, 'TYPE_CONFLICT');
  await h.request('PUT', '/v1/files/f', { headers: octets, body: 'x' });
  const below = await h.request('PUT', '/v1/files/f/child', { headers: octets, body: 'x' });
  t.equal(below.status, 409);
  t.equal(below.json().code, 'TYPE_CONFLICT');
  t.same(h.stagedFiles(), []);
});

t.test('bad write headers are 400 BAD_REQUEST', async (t) => {
  const h = await startServer(t);
  const bad: Array<Record<string, string>> = [{ 'x-deltabox-mtime-ms': 'yesterday' }, { 'x-deltabox-executable': 'yes' }, { 'x-deltabox-content-hash': 'abc' }, { 'if-none-match': '"abc"' }];
  for (const headers of bad) {
    const res = await h.request('PUT', '/v1/files/h.txt', { headers: { ...octets, ...headers }, body: 'x' });
    t.equal(res.json().code, 'BAD_REQUEST', JSON.stringify(headers));
  }
});

t.test('a body over the size limit is 413, declared or streamed', async (t) => {
  const h = await startServer(t, { limits: { maxFileBytes: 1000 } });
  await h.request('PUT', '/v1/files/big', { headers: octets, body: 'small' });
  const declared = await h.request('PUT', '/v1/files/big', { headers: octets, body: Buffer.alloc(1001) });
  t.equal(declared.status, 413);
  t.equal(declared.json().code, 'PAYLOAD_TOO_LARGE');
  const streamed = await h.request('PUT', '/v1/files/big', { headers: { ...octets, 'transfer-encoding': 'chunked' }, body: Buffer.alloc(5000) });
  t.equal(streamed.status, 413);
  t.equal(readFileSync(join(h.sdir, 'big'), 'utf8'), 'small');
  t.same(h.stagedFiles(), []);
});

t.test('DELETE removes a file, honours If-Match, and 404s when absent', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/x/del.txt', { headers: octets, body: 'bye' });
  const stale = await h.request('DELETE', '/v1/files/x/del.txt', { headers: { 'if-match': `"${await sha256('other')}"` } });
  t.equal(stale.status, 412);
  t.match(stale.json(), { code: 'BASE_MISMATCH', current: { path: 'x/del.txt', hash: await sha256('bye') } });
  t.equal(readFileSync(join(h.sdir, 'x', 'del.txt'), 'utf8'), 'bye', 'nothing changed on a 412');
  const del = await h.request('DELETE', '/v1/files/x/del.txt', { headers: { 'if-match': `"${await sha256('bye')}"` } });
  t.equal(del.status, 204);
  t.ok(Number(del.headers['x-deltabox-revision']) > 0);
  t.equal((await h.request('GET', '/v1/files/x/del.txt')).status, 404);
  t.equal((await h.request('DELETE', '/v1/files/x/del.txt')).json().code, 'NOT_FOUND');
  t.equal((await h.request('DELETE', '/v1/files/x')).json().code, 'TYPE_CONFLICT', 'DELETE /files on a folder');
});

t.test('the manifest streams every file and folder as NDJSON with the snapshot revision', async (t) => {
  const h = await startServer(t);
  mkdirSync(join(h.sdir, 'pre'));
  const count = 300; // more than one 256-line chunk
  const form = await Promise.all(
    Array.from({ length: count }, (_, i) => h.request('PUT', `/v1/files/m/f${String(i).padStart(4, '0')}`, { headers: octets, body: `file ${i}` })),
  );
  t.ok(form.every((r) => r.status === 200), 'all uploads succeeded');
  const res = await h.request('GET', '/v1/files');
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], /application\/x-ndjson/);
  const lines = res.body.toString().trim().split('\n').map((l) => JSON.parse(l));
  t.equal(lines.length, count + 1, 'every file plus the folder m');
  t.match(lines[0], { path: 'm', type: 'dir', size: 0 });
  t.match(lines[1], { path: 'm/f0000', type: 'file', size: 6, hash: await sha256('file 0') });
  const revision = Number(res.headers['x-deltabox-revision']);
  t.equal(revision, Math.max(...lines.map((l) => l.revision)), 'header is the journal revision of the snapshot');
  t.notOk(lines.some((l) => l.path.startsWith('.deltabox')), 'the state folder is never listed');
});
