/**
 * The write rules two-way sync relies on (issue 12): a retry whose content is already there succeeds and
 * records nothing (PUT and PATCH, with or without the declared hash), and a write whose folder moved since the
 * device's view is refused with PARENT_CHANGED and the journal record, changing nothing.
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { ChangeRecord, ChangesResponse, HistoryResponse } from '@deltabox/protocol';
import { openStateDb } from '../src/state/database.js';
import { ANCESTOR_LOOKUPS } from '../src/state/journal.js';
import { sha256, startServer, type Harness } from './support/harness.js';
import { makeDelta } from './support/deltas.js';
import { seededBytes } from './support/seeded-bytes.js';

const octets = { 'content-type': 'application/octet-stream' };
const deltaType = { 'content-type': 'application/vnd.deltabox.delta' };

async function put(h: Harness, path: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await h.request('PUT', `/v1/files/${path}`, { headers: { ...octets, ...headers }, body });
  return { status: res.status, json: res.json() };
}

async function journal(h: Harness, since = 0): Promise<ChangeRecord[]> {
  return (await h.request('GET', `/v1/changes?since=${since}`)).json<ChangesResponse>().changes;
}

async function latest(h: Harness): Promise<number> {
  return (await h.request('GET', '/v1/health')).json<{ revision: number }>().revision;
}

async function versionCount(h: Harness, path: string): Promise<number> {
  return (await h.request('GET', `/v1/history/${path}`)).json<HistoryResponse>().versions.length;
}

t.test('a retried PUT with a stale If-Match and the same bytes is 200, journals nothing and keeps no version', async (t) => {
  const h = await startServer(t);
  await put(h, 'a.txt', 'v1', { 'x-deltabox-mtime-ms': '1000' });
  const v1 = await sha256('v1');
  const first = await put(h, 'a.txt', 'v2', { 'if-match': `"${v1}"`, 'x-deltabox-mtime-ms': '2000' });
  t.equal(first.status, 200);
  const before = await latest(h);
  const versions = await versionCount(h, 'a.txt');
  for (const declared of [true, false]) {
    const headers: Record<string, string> = { 'if-match': `"${v1}"`, 'x-deltabox-mtime-ms': '2000' };
    if (declared) headers['x-deltabox-content-hash'] = await sha256('v2');
    const retry = await put(h, 'a.txt', 'v2', headers);
    t.equal(retry.status, 200, `the retry succeeds (content hash declared: ${declared})`);
    t.same(retry.json, first.json, 'with the current entry, revision and all');
  }
  t.same(await journal(h, before), [], 'no new journal record');
  t.equal(await versionCount(h, 'a.txt'), versions, 'no new version in history');
  const createOnly = await put(h, 'a.txt', 'v2', { 'if-none-match': '*', 'x-deltabox-mtime-ms': '2000' });
  t.equal(createOnly.status, 200, 'a create-only PUT of the content already there succeeds too');
  t.same(await journal(h, before), []);
  t.same(h.stagedFiles(), []);
});

t.test('a retried PUT answered before its body is read still reads the body: the next request on the connection is answered', async (t) => {
  const h = await startServer(t);
  const body = seededBytes(2 * 1024 * 1024, 11);
  const headers = { ...octets, authorization: `Bearer ${h.token}`, 'x-deltabox-content-hash': await sha256(body) };
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const send = (path: string, b: Buffer): Promise<{ status: number; socket: unknown }> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: h.port, method: 'PUT', path, headers: { ...headers, 'content-length': String(b.length) }, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket }));
      });
      req.on('error', reject);
      req.end(b);
    });
  t.equal((await send('/v1/files/k.bin', body)).status, 200);
  const retry = await send('/v1/files/k.bin', body);
  t.equal(retry.status, 200, 'the retry is answered');
  const next = await send('/v1/files/k.bin', body);
  t.equal(next.status, 200, 'and so is the request after it');
  t.equal(next.socket, retry.socket, 'on the same kept-alive connection');
});

t.test('a retried PUT whose content is there but whose metadata differs applies it, with no new version', async (t) => {
  const h = await startServer(t);
  await put(h, 'm.txt', 'same', { 'x-deltabox-mtime-ms': '1000' });
  const before = await latest(h);
  const versions = await versionCount(h, 'm.txt');
  const res = await put(h, 'm.txt', 'same', { 'if-match': `"${await sha256('other')}"`, 'x-deltabox-mtime-ms': '5000', 'x-deltabox-executable': '1' });
  t.equal(res.status, 200);
  t.match(res.json, { hash: await sha256('same'), mtimeMs: 5000, executable: true });
  t.equal(Math.round(statSync(join(h.sdir, 'm.txt')).mtimeMs), 5000, 'the mtime is applied');
  t.match(await journal(h, before), [{ op: 'put', path: 'm.txt', hash: await sha256('same') }], 'a put of the same hash tells devices of the new bits');
  t.equal(await versionCount(h, 'm.txt'), versions, 'the same bytes are not a past version');
});

t.test('a retried PATCH with a stale If-Match and the same result is 200, journals nothing and keeps no version', async (t) => {
  const h = await startServer(t);
  const basis = seededBytes(50_000, 3);
  const target = Buffer.concat([basis.subarray(0, 20_000), Buffer.from('an edit'), basis.subarray(20_000)]);
  await put(h, 'p.bin', basis, { 'x-deltabox-mtime-ms': '1000' });
  const base = await sha256(basis);
  const delta = await makeDelta(basis, target);
  const send = (headers: Record<string, string> = {}) =>
    h.request('PATCH', '/v1/files/p.bin', { headers: { ...deltaType, 'if-match': `"${base}"`, 'x-deltabox-mtime-ms': '3000', ...headers }, body: delta });
  const first = await send();
  t.equal(first.status, 200);
  const before = await latest(h);
  const versions = await versionCount(h, 'p.bin');
  const fromTrailer = await send();
  t.equal(fromTrailer.status, 200, 'the delta trailer says its result is the current content');
  t.same(fromTrailer.json(), first.json());
  const declared = await send({ 'x-deltabox-content-hash': await sha256(target) });
  t.equal(declared.status, 200, 'so does x-deltabox-content-hash, before the body is read');
  t.same(declared.json(), first.json());
  t.same(await journal(h, before), [], 'no new journal record');
  t.equal(await versionCount(h, 'p.bin'), versions, 'no new version');

  const metaOnly = await send({ 'x-deltabox-mtime-ms': '7000' });
  t.equal(metaOnly.status, 200, 'other metadata on the retry is applied');
  t.match(metaOnly.json(), { hash: await sha256(target), mtimeMs: 7000 });
  t.ok(readFileSync(join(h.sdir, 'p.bin')).equals(target), 'the content is unchanged');
  t.equal(await versionCount(h, 'p.bin'), versions, 'still no new version');

  const otherResult = await makeDelta(basis, Buffer.concat([basis, Buffer.from('another edit')]));
  const refused = await h.request('PATCH', '/v1/files/p.bin', { headers: { ...deltaType, 'if-match': `"${base}"` }, body: otherResult });
  t.equal(refused.status, 412, 'a stale base with another result is refused');
  t.match(refused.json(), { code: 'BASE_MISMATCH', current: { hash: await sha256(target) } });
  t.ok(readFileSync(join(h.sdir, 'p.bin')).equals(target), 'and changes nothing');
  t.same(h.stagedFiles(), []);
});

t.test('a resumable upload of the content already there ends in 200 with the current entry, whatever its ifMatch', async (t) => {
  const h = await startServer(t);
  const file = seededBytes(40_000, 9);
  const entry = (await put(h, 'r.bin', file, { 'x-deltabox-mtime-ms': '1000' })).json;
  const before = await latest(h);
  const versions = await versionCount(h, 'r.bin');
  const created = await h.request('POST', '/v1/uploads', {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ path: 'r.bin', size: file.length, hash: await sha256(file), mtimeMs: 1000, ifMatch: await sha256('an older version') }),
  });
  t.equal(created.status, 201, 'the stale ifMatch does not refuse the session: its content is already there');
  const last = await h.request('PATCH', `/v1/uploads/${created.json<{ id: string }>().id}`, {
    headers: { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
    body: file,
  });
  t.equal(last.status, 200);
  t.same(last.json(), entry, 'the current entry');
  t.same(await journal(h, before), [], 'no new journal record');
  t.equal(await versionCount(h, 'r.bin'), versions, 'no new version');
  t.same(readdirSync(join(h.sdir, '.deltabox', 'uploads')), [], 'the session and its bytes are gone');
});

t.test('a write whose folder moved after x-deltabox-since is 412 PARENT_CHANGED with the record, and writes nothing', async (t) => {
  const h = await startServer(t);
  await put(h, 'docs/a.txt', 'A');
  const since = await latest(h);
  const moved = await h.request('POST', '/v1/moves', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: 'docs', to: 'papers' }) });
  t.equal(moved.status, 200);
  const after = await latest(h);
  const sinceHeader = { 'x-deltabox-since': String(since) };

  const res = await put(h, 'docs/b.txt', 'B', sinceHeader);
  t.equal(res.status, 412);
  t.match(res.json, { code: 'PARENT_CHANGED', record: { op: 'move', from: 'docs', path: 'papers', revision: after } });
  const deep = await put(h, 'docs/sub/c.txt', 'C', sinceHeader);
  t.match(deep.json, { code: 'PARENT_CHANGED', record: { from: 'docs' } }, 'any folder on the way counts');
  const patch = await h.request('PATCH', '/v1/files/docs/a.txt', { headers: { ...deltaType, 'if-match': `"${await sha256('A')}"`, ...sinceHeader }, body: Buffer.alloc(8) });
  t.match(patch.json(), { code: 'PARENT_CHANGED' }, 'PATCH');
  const mkdir = await h.request('PUT', '/v1/dirs/docs/new', { headers: sinceHeader });
  t.match(mkdir.json(), { code: 'PARENT_CHANGED' }, 'PUT /v1/dirs');
  const move = await h.request('POST', '/v1/moves', { headers: { 'content-type': 'application/json', ...sinceHeader }, body: JSON.stringify({ from: 'papers/a.txt', to: 'docs/a.txt' }) });
  t.match(move.json(), { code: 'PARENT_CHANGED' }, 'a move into the moved folder');
  t.notOk(existsSync(join(h.sdir, 'docs')), 'nothing was written at the old place');
  t.same(await journal(h, after), [], 'nothing journaled');
  t.same(h.stagedFiles(), []);

  const current = await put(h, 'docs/b.txt', 'B', { 'x-deltabox-since': String(after) });
  t.equal(current.status, 200, 'with a since after the move the write goes through');
  const elsewhere = await put(h, 'other/d.txt', 'D', sinceHeader);
  t.equal(elsewhere.status, 200, 'a folder that did not move is fine with the old since');
  const noHeader = await put(h, 'docs/e.txt', 'E');
  t.equal(noHeader.status, 200, 'without the header nothing is checked');
});

t.test('a removed folder is PARENT_CHANGED too, and a bad since is a bad request', async (t) => {
  const h = await startServer(t);
  await put(h, 'gone/a.txt', 'A');
  const since = await latest(h);
  t.equal((await h.request('DELETE', '/v1/dirs/gone?recursive=1')).status, 204);
  const res = await put(h, 'gone/a.txt', 'A2', { 'x-deltabox-since': String(since) });
  t.equal(res.status, 412);
  t.match(res.json, { code: 'PARENT_CHANGED', record: { op: 'rmdir', path: 'gone' } });
  t.equal((await put(h, 'x.txt', 'x', { 'x-deltabox-since': 'yesterday' })).json.code, 'BAD_REQUEST');
});

t.test('the parent lookup reads the journal through its indexes, never a scan', async (t) => {
  const h = await startServer(t);
  const db = openStateDb(h.sdir);
  t.teardown(() => db.close());
  const plans = [ANCESTOR_LOOKUPS.movedFrom, ANCESTOR_LOOKUPS.removed].map((sql) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('a', 0) as Array<{ detail: string }>).map((r) => r.detail).join('; '));
  t.match(plans[0], /USING INDEX changes_moved_from/, plans[0]);
  t.match(plans[1], /USING INDEX changes_removed/, plans[1]);
});
