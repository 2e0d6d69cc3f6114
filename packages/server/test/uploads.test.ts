/**
 * Resumable uploads (docs/API.md §Resumable uploads) against a real server on 127.0.0.1: create, HEAD,
 * PATCH with checksums, commit through the normal write path, wrong offsets, corrupt chunks, a restart
 * mid-upload, expiry with a fake clock, token binding and limits.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp, createToken, type ServerLimits } from '../src/index.js';
import { rawRequest, startServer, waitFor, type Response } from './support/harness.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const checksum = (b: Buffer): string => `sha256 ${createHash('sha256').update(b).digest('base64')}`;
const offsetType = { 'content-type': 'application/offset+octet-stream' };

/** Helpers over any request function (harness or a restartable server). */
function uploads(request: (m: string, p: string, o?: { headers?: Record<string, string>; body?: Buffer | string }) => Promise<Response>) {
  return {
    create: (body: Record<string, unknown>) =>
      request('POST', '/v1/uploads', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    head: (id: string) => request('HEAD', `/v1/uploads/${id}`),
    patch: (id: string, offset: number, chunk: Buffer, extra: Record<string, string> = {}) =>
      request('PATCH', `/v1/uploads/${id}`, { headers: { ...offsetType, 'upload-offset': String(offset), 'upload-checksum': checksum(chunk), ...extra }, body: chunk }),
  };
}

const stagingOf = (sdir: string): string[] => {
  const dir = join(sdir, '.deltabox', 'uploads');
  return existsSync(dir) ? readdirSync(dir) : [];
};

t.test('an upload sent in checksummed chunks is committed byte-exact when the last chunk lands', async (t) => {
  const h = await startServer(t);
  const u = uploads(h.request);
  const file = randomBytes(300_000);
  const created = await u.create({ path: 'big/file.bin', size: file.length, hash: sha(file), mtimeMs: 1700000000123, executable: true });
  t.equal(created.status, 201);
  const { id, offset } = created.json<{ id: string; offset: number }>();
  t.equal(offset, 0);
  t.equal(created.headers.location, `/v1/uploads/${id}`);
  let head = await u.head(id);
  t.equal(head.status, 200);
  t.equal(head.headers['upload-offset'], '0');
  t.equal(head.headers['upload-length'], String(file.length));
  t.equal(head.headers['cache-control'], 'no-store');

  const first = await u.patch(id, 0, file.subarray(0, 100_000));
  t.equal(first.status, 204);
  t.equal(first.headers['upload-offset'], '100000');
  head = await u.head(id);
  t.equal(head.headers['upload-offset'], '100000', 'HEAD reports the acknowledged offset');
  t.notOk(existsSync(join(h.sdir, 'big/file.bin')), 'nothing visible before the whole file is there');

  const last = await u.patch(id, 100_000, file.subarray(100_000));
  t.equal(last.status, 200);
  t.match(last.json(), { path: 'big/file.bin', size: file.length, hash: sha(file), mtimeMs: 1700000000123, executable: true });
  t.ok(readFileSync(join(h.sdir, 'big/file.bin')).equals(file), 'byte-exact');
  t.equal((await u.head(id)).status, 404, 'the session is gone after the commit');
  t.same(stagingOf(h.sdir), [], 'no staging file left');
  const changes = (await h.request('GET', '/v1/changes?since=0')).json<{ changes: { op: string; path: string }[] }>();
  t.ok(changes.changes.some((c) => c.op === 'put' && c.path === 'big/file.bin'), 'journaled as a put, like a PUT');
  t.same(h.violations, []);
});

t.test('a PATCH at a wrong offset gets 409 and changes nothing', async (t) => {
  const h = await startServer(t);
  const u = uploads(h.request);
  const file = randomBytes(50_000);
  const { id } = (await u.create({ path: 'f.bin', size: file.length, hash: sha(file), mtimeMs: 1 })).json<{ id: string }>();
  await u.patch(id, 0, file.subarray(0, 20_000));
  for (const wrong of [0, 10_000, 30_000]) {
    const res = await u.patch(id, wrong, file.subarray(wrong, wrong + 5_000));
    t.equal(res.status, 409, `offset ${wrong}`);
    t.equal(res.json().code, 'UPLOAD_OFFSET_MISMATCH');
  }
  t.equal((await u.head(id)).headers['upload-offset'], '20000', 'offset unchanged');
  t.equal(statSync(join(h.sdir, '.deltabox', 'uploads', id)).size, 20_000, 'staged bytes unchanged');
  t.same(h.violations, []);
});

t.test('a chunk that does not match its Upload-Checksum is refused and the offset does not move', async (t) => {
  const h = await startServer(t);
  const u = uploads(h.request);
  const file = randomBytes(50_000);
  const { id } = (await u.create({ path: 'f.bin', size: file.length, hash: sha(file), mtimeMs: 1 })).json<{ id: string }>();
  await u.patch(id, 0, file.subarray(0, 20_000));
  const corrupt = Buffer.from(file.subarray(20_000, 40_000));
  corrupt[123] ^= 0xff;
  const res = await u.patch(id, 20_000, corrupt, { 'upload-checksum': checksum(file.subarray(20_000, 40_000)) });
  t.equal(res.status, 460);
  t.equal(res.json().code, 'CHECKSUM_MISMATCH');
  t.equal((await u.head(id)).headers['upload-offset'], '20000');
  t.equal(statSync(join(h.sdir, '.deltabox', 'uploads', id)).size, 20_000, 'the corrupt chunk was dropped');
  const bad = await u.patch(id, 20_000, file.subarray(20_000), { 'upload-checksum': 'md5 abc' });
  t.equal(bad.json().code, 'BAD_REQUEST', 'an unknown checksum algorithm is refused');
  const rest = await u.patch(id, 20_000, file.subarray(20_000));
  t.equal(rest.status, 200, 'the good chunk is accepted afterwards');
  t.ok(readFileSync(join(h.sdir, 'f.bin')).equals(file));
  t.same(h.violations, []);
});

t.test('a whole file whose SHA-256 is not the declared one is never committed', async (t) => {
  const h = await startServer(t);
  const u = uploads(h.request);
  await h.request('PUT', '/v1/files/f.bin', { headers: { 'content-type': 'application/octet-stream' }, body: 'old' });
  const file = randomBytes(10_000);
  const { id } = (await u.create({ path: 'f.bin', size: file.length, hash: sha(randomBytes(8)), mtimeMs: 1, ifMatch: sha(Buffer.from('old')) })).json<{ id: string }>();
  const res = await u.patch(id, 0, file);
  t.equal(res.status, 422);
  t.equal(res.json().code, 'HASH_MISMATCH');
  t.equal(readFileSync(join(h.sdir, 'f.bin'), 'utf8'), 'old', 'the previous version is intact');
  t.equal((await u.head(id)).status, 404, 'the session is removed: its bytes can never commit');
  t.same(stagingOf(h.sdir), []);
});

t.test('creation checks the path, the preconditions, the token and the limits before any byte', async (t) => {
  const h = await startServer(t, { limits: { uploadMaxSessionsPerToken: 2, uploadMaxStagedBytes: 1000 } });
  const u = uploads(h.request);
  await h.request('PUT', '/v1/files/exists.txt', { headers: { 'content-type': 'application/octet-stream' }, body: 'x' });
  const base = { size: 10, hash: sha(Buffer.alloc(10)), mtimeMs: 1 };
  t.equal((await u.create({ ...base, path: '../evil' })).json().code, 'BAD_PATH');
  t.equal((await u.create({ ...base, path: 'exists.txt', ifNoneMatch: true })).json().code, 'BASE_MISMATCH', 'create-only onto other content');
  t.equal((await u.create({ ...base, path: 'exists.txt', ifMatch: sha(Buffer.from('y')) })).json().code, 'BASE_MISMATCH');
  t.equal((await u.create({ ...base, path: 'a', size: -1 })).json().code, 'BAD_REQUEST');
  t.equal((await u.create({ ...base, path: 'a', size: 2000 })).json().code, 'INSUFFICIENT_STORAGE', 'over the staged-bytes cap');
  const readOnly = await h.request('POST', '/v1/uploads', {
    headers: { authorization: `Bearer ${h.readOnlyToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...base, path: 'a' }),
  });
  t.equal(readOnly.status, 403, 'a read-only token may not open a session');

  const { id } = (await u.create({ ...base, path: 'a' })).json<{ id: string }>();
  t.equal((await u.create({ ...base, path: 'b' })).status, 201);
  t.equal((await u.create({ ...base, path: 'c' })).json().code, 'TOO_MANY_UPLOADS', 'per-token session limit');

  const other = createToken(h.sdir, { name: 'other device' });
  const asOther = await rawRequest(h.port, 'HEAD', `/v1/uploads/${id}`, { headers: { authorization: `Bearer ${other}` } });
  t.equal(asOther.status, 404, 'a session is invisible to another token');
  t.equal((await h.request('DELETE', `/v1/uploads/${id}`)).status, 204, 'DELETE abandons a session');
  t.equal((await u.head(id)).status, 404);
  t.equal(stagingOf(h.sdir).length, 1, 'only the other session stages a file');
  t.same(h.violations, []);
});

/** A server on `sdir` that can be closed and started again (same folder, same state). */
async function restartable(t: Parameters<Parameters<typeof t.test>[1]>[0], limits: Partial<ServerLimits> = {}, clock?: () => number) {
  const base = mkdtempSync(join(tmpdir(), 'dbx-uploads-'));
  const sdir = join(base, 'served');
  const token = createToken(sdir, { name: 'device' });
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let port = 0;
  const start = async (): Promise<void> => {
    app = await buildApp({ sdir, limits }, clock ? { now: clock } : {});
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  };
  const stop = async (): Promise<void> => {
    await app?.close();
    app = undefined;
  };
  t.teardown(async () => {
    await stop();
    rmSync(base, { recursive: true, force: true });
  });
  await start();
  const request = (m: string, p: string, o: { headers?: Record<string, string>; body?: Buffer | string } = {}) =>
    rawRequest(port, m, p, { ...o, headers: { authorization: `Bearer ${token}`, ...o.headers } });
  return { sdir, start, stop, request };
}

t.test('a session survives a server restart and the upload resumes at the acknowledged offset', async (t) => {
  const s = await restartable(t);
  const u = uploads(s.request);
  const file = randomBytes(200_000);
  const { id } = (await u.create({ path: 'r.bin', size: file.length, hash: sha(file), mtimeMs: 5 })).json<{ id: string }>();
  await u.patch(id, 0, file.subarray(0, 120_000));
  await s.stop();
  await s.start();
  const head = await u.head(id);
  t.equal(head.status, 200);
  t.equal(head.headers['upload-offset'], '120000', 'the offset survived the restart');
  const rest = await u.patch(id, 120_000, file.subarray(120_000));
  t.equal(rest.status, 200);
  t.ok(readFileSync(join(s.sdir, 'r.bin')).equals(file), 'byte-exact after the restart');
});

t.test('an expired session is swept at start and periodically, staged bytes and all', async (t) => {
  let now = 1_800_000_000_000;
  const day = 24 * 60 * 60 * 1000;
  const s = await restartable(t, { uploadSweepIntervalMs: 10 }, () => now);
  const u = uploads(s.request);
  const file = randomBytes(1000);
  const make = async (path: string): Promise<string> => {
    const { id } = (await u.create({ path, size: file.length, hash: sha(file), mtimeMs: 5 })).json<{ id: string }>();
    await u.patch(id, 0, file.subarray(0, 500));
    return id;
  };
  const first = await make('one.bin');
  now += day - 1;
  t.equal((await u.head(first)).status, 200, 'alive just before a day has passed');
  now += 2;
  t.equal((await u.head(first)).status, 404, 'expired after a day untouched');
  await waitFor(() => !stagingOf(s.sdir).includes(first), 'the periodic sweep to remove the staged bytes');

  const second = await make('two.bin');
  await s.stop();
  now += day + 1;
  await s.start();
  t.notOk(stagingOf(s.sdir).includes(second), 'swept at start');
  t.equal((await u.head(second)).status, 404);
});
