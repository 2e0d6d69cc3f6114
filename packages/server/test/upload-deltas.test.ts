/**
 * Resumable delta uploads (docs/API.md §Resumable uploads, issue 13): a session whose bytes are a core delta
 * against the base its `ifMatch` names. Real server on 127.0.0.1, real files, real SQLite, deltas made by the
 * real engine. The completing PATCH patches from the base and commits only when the result has the declared
 * SHA-256; a base that moved on is refused at creation and at commit and changes nothing; the base stays
 * pinned (pruning keeps its object) for the session's life, across a restart.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorCatalogue } from '@deltabox/protocol';
import type { Pruner } from '../src/history/pruner.js';
import type { Mirror } from '../src/mirror.js';
import { startServer } from './support/harness.js';
import { makeDelta } from './support/deltas.js';
import { restartable, stagingOf, uploads } from './support/upload-sessions.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const baseMismatch = errorCatalogue.BASE_MISMATCH.status;

/** A basis and an edited target (the middle rewritten), and the delta between them. */
async function edit(size: number): Promise<{ basis: Buffer; target: Buffer; delta: Buffer }> {
  const basis = randomBytes(size);
  const target = Buffer.concat([basis.subarray(0, size / 4), randomBytes(size / 4), basis.subarray(size / 2)]);
  return { basis, target, delta: await makeDelta(basis, target) };
}

t.test('a delta sent in checksummed chunks is patched from its base and committed byte-exact', async (t) => {
  const h = await startServer(t);
  const u = uploads(h.request);
  const { basis, target, delta } = await edit(400_000);
  t.equal((await h.request('PUT', '/v1/files/d.bin', { body: basis })).status, 200);
  const created = await u.create({ path: 'd.bin', kind: 'delta', size: delta.length, hash: sha(target), mtimeMs: 1700000000000, ifMatch: sha(basis) });
  t.equal(created.status, 201, created.body.toString());
  const { id } = created.json<{ id: string }>();
  const half = Math.floor(delta.length / 2);
  t.equal((await u.patch(id, 0, delta.subarray(0, half))).status, 204);
  t.equal((await u.head(id)).headers['upload-offset'], String(half));
  t.ok(readFileSync(join(h.sdir, 'd.bin')).equals(basis), 'the base is untouched until the delta is whole');
  const last = await u.patch(id, half, delta.subarray(half));
  t.equal(last.status, 200, last.body.toString());
  t.match(last.json(), { path: 'd.bin', size: target.length, hash: sha(target), mtimeMs: 1700000000000 });
  t.ok(readFileSync(join(h.sdir, 'd.bin')).equals(target), 'byte-exact');
  t.same(stagingOf(h.sdir), [], 'the session is gone');
  const history = (await h.request('GET', '/v1/history/d.bin')).json<{ versions: Array<{ hash: string }> }>();
  t.same(history.versions.map((v) => v.hash), [sha(basis)], 'the base is kept as a version, as for any replace');
});

t.test('creation refuses a delta session without a current base, and a base that moved on', async (t) => {
  const h = await startServer(t);
  const u = uploads(h.request);
  const { basis, target, delta } = await edit(40_000);
  await h.request('PUT', '/v1/files/d.bin', { body: basis });
  const meta = { path: 'd.bin', kind: 'delta', size: delta.length, hash: sha(target), mtimeMs: 1 };
  t.equal((await u.create(meta)).status, 400, 'ifMatch is required');
  t.equal((await u.create({ ...meta, ifMatch: sha(basis), ifNoneMatch: true })).status, 400, 'and ifNoneMatch is refused');
  t.equal((await u.create({ ...meta, kind: 'patch', ifMatch: sha(basis) })).status, 400, 'an unknown kind is refused');
  const moved = await u.create({ ...meta, ifMatch: sha(target) });
  t.equal(moved.status, baseMismatch);
  t.match(moved.json(), { code: 'BASE_MISMATCH', currentHash: sha(basis) });
  t.equal((await u.create({ ...meta, path: 'nothing.bin', ifMatch: sha(basis) })).json().code, 'BASE_MISMATCH', 'no file, no base');
  t.same(stagingOf(h.sdir), [], 'nothing staged');
  t.same(h.violations, []);
});

t.test('a base that moved on before the commit answers BASE_MISMATCH and changes nothing', async (t) => {
  const h = await startServer(t);
  const u = uploads(h.request);
  const { basis, target, delta } = await edit(40_000);
  await h.request('PUT', '/v1/files/d.bin', { body: basis });
  const { id } = (await u.create({ path: 'd.bin', kind: 'delta', size: delta.length, hash: sha(target), mtimeMs: 1, ifMatch: sha(basis) })).json<{ id: string }>();
  await u.patch(id, 0, delta.subarray(0, 100));
  const other = randomBytes(1000);
  t.equal((await h.request('PUT', '/v1/files/d.bin', { body: other })).status, 200, 'another writer replaces the base');
  const last = await u.patch(id, 100, delta.subarray(100));
  t.equal(last.status, baseMismatch);
  t.match(last.json(), { code: 'BASE_MISMATCH', currentHash: sha(other) });
  t.ok(readFileSync(join(h.sdir, 'd.bin')).equals(other), 'the other writer\'s version stays');
  t.equal((await u.head(id)).status, 404, 'the session is removed: it can never commit');
  t.same(stagingOf(h.sdir), []);
  t.same(h.stagedFiles(), [], 'no staged file left');
});

t.test('a delta whose result is not the declared hash, or that is corrupt, is never committed', async (t) => {
  const h = await startServer(t);
  const u = uploads(h.request);
  const { basis, target, delta } = await edit(40_000);
  await h.request('PUT', '/v1/files/d.bin', { body: basis });
  const open = async (hash: string, bytes: Buffer): Promise<string> =>
    (await u.create({ path: 'd.bin', kind: 'delta', size: bytes.length, hash, mtimeMs: 1, ifMatch: sha(basis) })).json<{ id: string }>().id;
  const wrongHash = await open(sha(Buffer.from('something else')), delta);
  const refused = await u.patch(wrongHash, 0, delta);
  t.equal(refused.json().code, 'HASH_MISMATCH');
  const corrupt = Buffer.from(delta);
  corrupt.fill(0xff, 8, 64);
  const bad = await open(sha(target), corrupt);
  const malformed = await u.patch(bad, 0, corrupt);
  t.match(malformed.json().code, /^(DELTA_MALFORMED|TRUNCATED_UPLOAD|PAYLOAD_TOO_LARGE|HASH_MISMATCH)$/, `refused as ${malformed.json().code}`);
  t.ok(readFileSync(join(h.sdir, 'd.bin')).equals(basis), 'the base is still there');
  t.same(stagingOf(h.sdir), [], 'both sessions are removed');
  t.same(h.violations, []);
});

t.test('the base stays pinned for the session\'s life, across a restart; a restarted server completes the delta', async (t) => {
  let parts: { mirror: Mirror; pruner: Pruner } | undefined;
  const s = await restartable(t, { retention: { allMs: 0, dailyMs: 0, weeklyMs: 0, maxBytes: 0 }, overrides: { inspect: (p) => (parts = p) } });
  const u = uploads(s.request);
  const { basis, target, delta } = await edit(40_000);
  // The base's content is also a past version of another file: its object exists, and retention wants it gone.
  await s.request('PUT', '/v1/files/old.bin', { body: basis });
  await s.request('PUT', '/v1/files/old.bin', { body: randomBytes(10) });
  await s.request('PUT', '/v1/files/d.bin', { body: basis });
  const object = join(s.sdir, '.deltabox', 'versions', sha(basis).slice(0, 2), sha(basis).slice(2));
  t.ok(existsSync(object), 'the base content is a version object');
  const { id } = (await u.create({ path: 'd.bin', kind: 'delta', size: delta.length, hash: sha(target), mtimeMs: 1, ifMatch: sha(basis) })).json<{ id: string }>();
  await u.patch(id, 0, delta.subarray(0, 1000));
  await s.stop();
  await s.start();
  parts!.pruner.stop();
  await parts!.pruner.run();
  t.ok(existsSync(object), 'pruned rows, but the pinned base object stays');
  t.equal((await u.head(id)).headers['upload-offset'], '1000', 'the session survived the restart');
  const last = await u.patch(id, 1000, delta.subarray(1000));
  t.equal(last.status, 200, last.body.toString());
  t.ok(readFileSync(join(s.sdir, 'd.bin')).equals(target), 'byte-exact after the restart');
  await parts!.pruner.run();
  t.notOk(existsSync(object), 'once the session ended the object went with the next prune');
});
