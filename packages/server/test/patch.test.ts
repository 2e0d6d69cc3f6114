import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, startServer, waitFor, rawRequest, type Harness } from './support/harness.js';
import { makeDelta } from './support/deltas.js';
import { seededBytes } from './support/seeded-bytes.js';
import { startPartialRequest } from './support/partial-request.js';

const deltaType = { 'content-type': 'application/vnd.deltabox.delta' };

async function seed(h: Harness, path: string, content: Buffer): Promise<string> {
  const res = await h.request('PUT', `/v1/files/${path}`, { headers: { 'content-type': 'application/octet-stream' }, body: content });
  if (res.status !== 200) throw new Error(`seed failed: ${res.status} ${res.body}`);
  return sha256(content);
}

function edited(basis: Buffer, seedValue: number): Buffer {
  const copy = Buffer.from(basis);
  seededBytes(64, seedValue).copy(copy, 1000 + seedValue * 100);
  return Buffer.concat([copy, Buffer.from(`tail ${seedValue}`)]);
}

t.test('a PATCH applies a core delta to the current file and returns the new entry', async (t) => {
  const h = await startServer(t);
  const basis = seededBytes(100_000, 1);
  const target = edited(basis, 2);
  const base = await seed(h, 'big.bin', basis);
  const delta = await makeDelta(basis, target);
  t.ok(delta.length < target.length / 4, 'the delta is much smaller than the file');
  const res = await h.request('PATCH', '/v1/files/big.bin', {
    headers: { ...deltaType, 'if-match': `"${base}"`, 'x-deltabox-mtime-ms': '1600000000000', 'x-deltabox-content-hash': await sha256(target) },
    body: delta,
  });
  t.equal(res.status, 200, res.body.toString());
  t.match(res.json(), { path: 'big.bin', size: target.length, hash: await sha256(target), mtimeMs: 1600000000000 });
  t.ok(readFileSync(join(h.sdir, 'big.bin')).equals(target), 'the file on disk is the target');
  t.same(h.stagedFiles(), []);
});

t.test('a PATCH without If-Match or with the wrong media type is a bad request', async (t) => {
  const h = await startServer(t);
  const basis = seededBytes(5000, 3);
  const base = await seed(h, 'f', basis);
  const delta = await makeDelta(basis, edited(basis, 4));
  const noMatch = await h.request('PATCH', '/v1/files/f', { headers: deltaType, body: delta });
  t.equal(noMatch.status, 400);
  t.equal(noMatch.json().code, 'BAD_REQUEST');
  const wrongType = await h.request('PATCH', '/v1/files/f', { headers: { 'content-type': 'application/octet-stream', 'if-match': `"${base}"` }, body: delta });
  t.equal(wrongType.json().code, 'BAD_REQUEST');
});

t.test('a PATCH against a base that moved on is 412 with the current entry and changes nothing', async (t) => {
  const h = await startServer(t);
  const basis = seededBytes(5000, 5);
  const old = await sha256(Buffer.from('an older version'));
  const current = await seed(h, 'f', basis);
  const res = await h.request('PATCH', '/v1/files/f', { headers: { ...deltaType, 'if-match': `"${old}"` }, body: await makeDelta(basis, edited(basis, 6)) });
  t.equal(res.status, 412);
  t.match(res.json(), { code: 'BASE_MISMATCH', currentHash: current, current: { path: 'f', type: 'file', size: basis.length, hash: current } });
  t.ok(readFileSync(join(h.sdir, 'f')).equals(basis));
  const missing = await h.request('PATCH', '/v1/files/none', { headers: { ...deltaType, 'if-match': `"${old}"` }, body: Buffer.alloc(10) });
  t.equal(missing.json().code, 'BASE_MISMATCH', 'a missing file is a moved base too');
});

t.test('malformed, truncated and corrupted deltas are refused and change nothing', async (t) => {
  const h = await startServer(t);
  const basis = seededBytes(20_000, 7);
  const base = await seed(h, 'f', basis);
  const target = edited(basis, 8);
  const delta = await makeDelta(basis, target);
  const send = (body: Buffer, extra: Record<string, string> = {}) =>
    h.request('PATCH', '/v1/files/f', { headers: { ...deltaType, 'if-match': `"${base}"`, ...extra }, body });

  const badMagic = Buffer.from(delta);
  badMagic[0] ^= 0xff;
  t.match((await send(badMagic)).json(), { code: 'DELTA_MALFORMED' }, 'bad magic');
  t.match((await send(Buffer.from('not a delta at all'))).json(), { code: 'DELTA_MALFORMED' }, 'garbage');
  const truncated = await send(delta.subarray(0, delta.length - 20));
  t.equal(truncated.status, 400);
  t.match(truncated.json(), { code: 'TRUNCATED_UPLOAD' }, 'a delta that ends early');
  const flipped = Buffer.from(delta);
  flipped[flipped.length - 1] ^= 0x01; // last byte of the trailer's SHA-256
  const checksum = await send(flipped);
  t.equal(checksum.status, 422);
  t.match(checksum.json(), { code: 'HASH_MISMATCH' }, 'the result does not have the delta hash');
  const declared = await send(delta, { 'x-deltabox-content-hash': await sha256('not the target') });
  t.match(declared.json(), { code: 'HASH_MISMATCH' }, 'the result does not have the declared hash');
  t.ok(readFileSync(join(h.sdir, 'f')).equals(basis), 'the file is unchanged');
  t.same(h.stagedFiles(), []);
});

t.test('a delta built against another basis than the one If-Match names is malformed', async (t) => {
  const h = await startServer(t);
  const basis = seededBytes(20_000, 30);
  const base = await seed(h, 'f', basis);
  const other = seededBytes(50_000, 31);
  const res = await h.request('PATCH', '/v1/files/f', { headers: { ...deltaType, 'if-match': `"${base}"` }, body: await makeDelta(other, edited(other, 3)) });
  t.equal(res.status, 400);
  t.equal(res.json().code, 'DELTA_MALFORMED');
  t.ok(readFileSync(join(h.sdir, 'f')).equals(basis));
  t.same(h.stagedFiles(), []);
});

t.test('decoded delta fields over their limits are 413', async (t) => {
  const h = await startServer(t, { limits: { deltaMaxLiteralChunk: 1024, maxDeltaBytes: 200_000 } });
  const basis = seededBytes(10_000, 9);
  const base = await seed(h, 'f', basis);
  const target = Buffer.concat([basis, seededBytes(50_000, 10)]); // a long incompressible literal
  const res = await h.request('PATCH', '/v1/files/f', { headers: { ...deltaType, 'if-match': `"${base}"` }, body: await makeDelta(basis, target) });
  t.equal(res.status, 413);
  t.equal(res.json().code, 'PAYLOAD_TOO_LARGE');
  const tooBig = await h.request('PATCH', '/v1/files/f', { headers: { ...deltaType, 'if-match': `"${base}"` }, body: Buffer.alloc(200_001) });
  t.equal(tooBig.json().code, 'PAYLOAD_TOO_LARGE', 'the body itself over maxDeltaBytes');
  t.ok(readFileSync(join(h.sdir, 'f')).equals(basis));
});

t.test('two concurrent deltas against the same base: exactly one wins, the other gets 412', async (t) => {
  const h = await startServer(t);
  const basis = seededBytes(400_000, 11);
  const base = await seed(h, 'f', basis);
  const targets = [edited(basis, 12), edited(basis, 13)];
  const deltas = await Promise.all(targets.map((target) => makeDelta(basis, target)));
  const results = await Promise.all(
    deltas.map((delta) => h.request('PATCH', '/v1/files/f', { headers: { ...deltaType, 'if-match': `"${base}"` }, body: delta })),
  );
  t.same(results.map((r) => r.status).sort(), [200, 412]);
  const winner = results.findIndex((r) => r.status === 200);
  const loser = results[1 - winner]!;
  t.equal(loser.json().code, 'BASE_MISMATCH');
  t.equal(loser.json().currentHash, await sha256(targets[winner]!));
  t.ok(readFileSync(join(h.sdir, 'f')).equals(targets[winner]!), 'the file is the winner’s target');
  t.same(h.stagedFiles(), []);
});

t.test('a client that disconnects mid-delta leaves the old file and no staged file', async (t) => {
  const h = await startServer(t, { limits: { deltaMaxLiteralChunk: 1 << 20 } });
  const basis = seededBytes(200_000, 14);
  const base = await seed(h, 'f', basis);
  const delta = await makeDelta(basis, Buffer.concat([seededBytes(3_000_000, 15), basis]));
  const socket = await startPartialRequest(h.port, 'PATCH', '/v1/files/f', { ...deltaType, 'if-match': `"${base}"`, authorization: `Bearer ${h.token}` }, delta.length, delta.subarray(0, delta.length >> 1));
  await waitFor(() => h.stagedFiles().length > 0, 'the server to start a staged file');
  socket.destroy();
  await waitFor(() => h.stagedFiles().length === 0, 'the staged file to be deleted');
  t.ok(readFileSync(join(h.sdir, 'f')).equals(basis), 'the old file is intact');
  const after = await rawRequest(h.port, 'GET', '/v1/files/f', { headers: { authorization: `Bearer ${h.token}` } });
  t.equal(after.headers.etag, `"${base}"`, 'the index still names the old version');
});
