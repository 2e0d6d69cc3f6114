import t from 'tap';
import { decodeSignature } from '@deltabox/core';
import { startServer } from './support/harness.js';
import { makeDelta } from './support/deltas.js';
import { seededBytes } from './support/seeded-bytes.js';

t.test('the signature describes the current version and is served from the cache afterwards', async (t) => {
  const h = await startServer(t);
  const content = seededBytes(300_000, 21);
  await h.request('PUT', '/v1/files/s.bin', { body: content });
  const first = await h.request('GET', '/v1/signatures/s.bin');
  t.equal(first.status, 200);
  t.equal(first.headers['content-type'], 'application/vnd.deltabox.signature');
  const sig = decodeSignature(first.body);
  t.equal(sig.basisLength, content.length);
  t.equal(sig.blockCount, Math.ceil(content.length / sig.blockLength));
  const second = await h.request('GET', '/v1/signatures/s.bin');
  t.ok(second.body.equals(first.body), 'byte-identical: not recomputed (a fresh one would have a new random seed)');
  t.equal(second.headers.etag, first.headers.etag);
  // The signature is usable: a delta made from it patches the file.
  const target = Buffer.concat([content.subarray(0, 1000), Buffer.from('inserted'), content.subarray(1000)]);
  t.ok((await makeDelta(content, target)).length < 50_000);
});

t.test('blockLength selects the block size and is cached under its own key', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/s.bin', { body: seededBytes(10_000, 22) });
  const res = await h.request('GET', '/v1/signatures/s.bin?blockLength=512');
  t.equal(decodeSignature(res.body).blockLength, 512);
  const again = await h.request('GET', '/v1/signatures/s.bin?blockLength=512');
  t.ok(again.body.equals(res.body));
  const other = await h.request('GET', '/v1/signatures/s.bin?blockLength=1024');
  t.equal(decodeSignature(other.body).blockLength, 1024);
  for (const bad of ['0', '-5', 'abc', String(2 ** 30)]) {
    t.equal((await h.request('GET', `/v1/signatures/s.bin?blockLength=${bad}`)).json().code, 'BAD_REQUEST', `blockLength=${bad}`);
  }
});

t.test('a new version gets a new signature; missing files and folders are refused', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/s.bin', { body: seededBytes(10_000, 23) });
  const before = await h.request('GET', '/v1/signatures/s.bin');
  await h.request('PUT', '/v1/files/s.bin', { body: seededBytes(20_000, 24) });
  const after = await h.request('GET', '/v1/signatures/s.bin');
  t.not(after.headers.etag, before.headers.etag);
  t.equal(decodeSignature(after.body).basisLength, 20_000);
  t.equal((await h.request('GET', '/v1/signatures/none')).json().code, 'NOT_FOUND');
  await h.request('PUT', '/v1/dirs/d');
  t.equal((await h.request('GET', '/v1/signatures/d')).json().code, 'TYPE_CONFLICT');
  await h.request('PUT', '/v1/files/empty', { body: '' });
  t.equal(decodeSignature((await h.request('GET', '/v1/signatures/empty')).body).blockCount, 0, 'an empty file has an empty signature');
});
