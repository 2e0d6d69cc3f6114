/**
 * Files dated before 1970 (negative, fractional mtimeMs) keep their date through batch uploads, PUT and
 * PATCH: the index, the manifest and the response headers carry it in whole milliseconds, the disk to the
 * microsecond (or the nearest time the filesystem can hold).
 */
import t from 'tap';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { formatEtag, mediaTypes, type BatchResponse, type ManifestEntry } from '@deltabox/protocol';
import { makeDelta } from './support/deltas.js';
import { startServer, type Harness } from './support/harness.js';
import { batchBody } from './support/multipart.js';

/** 1900-01-01T00:00:00Z */
const YEAR_1900_MS = Date.UTC(1900, 0, 1);

async function manifestEntry(h: Harness, path: string): Promise<ManifestEntry> {
  const lines = (await h.request('GET', '/v1/files')).body.toString().trim().split('\n');
  return lines.map((l) => JSON.parse(l) as ManifestEntry).find((e) => e.path === path)!;
}

/** The disk's mtime, unless the filesystem cannot go that far back (ext4 with small inodes stops in 1901). */
function checkDiskMtime(t: Tap.Test, file: string, wantedMs: number): void {
  const onDisk = statSync(file).mtimeMs;
  const clampedAt = -(2 ** 31) * 1000;
  if (wantedMs < clampedAt && onDisk === clampedAt) t.pass(`the filesystem holds ${new Date(onDisk).toISOString()} at the earliest`);
  else t.ok(Math.abs(onDisk - wantedMs) < 0.01, `the disk has ${onDisk}, wanted ${wantedMs}`);
}

t.test('a batch of files dated before 1970 is committed with their dates', async (t) => {
  const h = await startServer(t);
  const files = [
    { path: 'frac.txt', content: 'a', mtimeMs: -1.5 },
    { path: 'day.txt', content: 'b', mtimeMs: -86_400_000.25 },
    { path: 'old.txt', content: 'c', mtimeMs: YEAR_1900_MS },
  ];
  const { body, contentType } = batchBody(files);
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType }, body });
  t.equal(res.status, 200);
  const results = res.json<BatchResponse>().results;
  t.same(results.map((r) => [r.path, r.ok]), [['frac.txt', true], ['day.txt', true], ['old.txt', true]], 'one ok result per file, by its path');
  const wholeMs = [-1, -86_400_000, YEAR_1900_MS];
  for (const [i, f] of files.entries()) {
    t.equal((await manifestEntry(h, f.path)).mtimeMs, wholeMs[i], `${f.path}: the manifest has whole ms toward zero`);
    checkDiskMtime(t, join(h.sdir, f.path), f.mtimeMs);
  }
});

t.test('a refused batch part is reported under its own path, not the part file name', async (t) => {
  const h = await startServer(t);
  const { body, contentType } = batchBody([{ path: 'bad.txt', content: 'x', meta: { mtimeMs: 'yesterday' } }]);
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': contentType }, body });
  t.match(res.json<BatchResponse>().results, [{ path: 'bad.txt', ok: false, error: { code: 'BAD_REQUEST' } }]);
});

t.test('PUT and PATCH keep an mtime before 1970 and GET returns it', async (t) => {
  const h = await startServer(t);
  const put = await h.request('PUT', '/v1/files/big.bin', { headers: { 'x-deltabox-mtime-ms': '-86400000.25' }, body: Buffer.alloc(200_000, 7) });
  t.equal(put.status, 200);
  t.equal(put.json<ManifestEntry>().mtimeMs, -86_400_000);
  checkDiskMtime(t, join(h.sdir, 'big.bin'), -86_400_000.25);
  const get = await h.request('GET', '/v1/files/big.bin');
  t.equal(get.headers['x-deltabox-mtime-ms'], '-86400000');

  const target = Buffer.concat([Buffer.alloc(200_000, 7), Buffer.from('more')]);
  const patch = await h.request('PATCH', '/v1/files/big.bin', {
    headers: { 'content-type': mediaTypes.delta, 'if-match': formatEtag(put.json<ManifestEntry>().hash!), 'x-deltabox-mtime-ms': String(YEAR_1900_MS) },
    body: await makeDelta(Buffer.alloc(200_000, 7), target),
  });
  t.equal(patch.status, 200);
  t.equal(patch.json<ManifestEntry>().mtimeMs, YEAR_1900_MS);
  checkDiskMtime(t, join(h.sdir, 'big.bin'), YEAR_1900_MS);
  const small = await h.request('PUT', '/v1/files/s.txt', { headers: { 'x-deltabox-mtime-ms': '-1.5' }, body: 'x' });
  t.equal(small.json<ManifestEntry>().mtimeMs, -1);
  checkDiskMtime(t, join(h.sdir, 's.txt'), -1.5);
  const bad = await h.request('PUT', '/v1/files/s.txt', { headers: { 'x-deltabox-mtime-ms': '1e3' }, body: 'x' });
  t.equal(bad.status, 400, 'exponents are refused');
  const huge = await h.request('PUT', '/v1/files/s.txt', { headers: { 'x-deltabox-mtime-ms': '-9000000000000000' }, body: 'x' });
  t.equal(huge.status, 400, 'times past the Date range are refused');
});
