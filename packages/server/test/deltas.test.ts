/**
 * Download deltas (issue 12 item 4): GET /v1/deltas/<path>?from=<sha256> from content the server holds (a kept
 * version of any path, or the current file), POST with the device's signature; each patched with the real core
 * back into the current version, byte for byte. Hostile signatures are typed refusals.
 */
import t, { type Test } from 'tap';
import { applyDeltaToBuffer, computeSignature, encodeSignature, readDeltaHeader } from '@deltabox/core';
import { mediaTypes } from '@deltabox/protocol';
import { sha256, startServer, type Harness, type Response } from './support/harness.js';
import { seededBytes } from './support/seeded-bytes.js';

const octets = { 'content-type': 'application/octet-stream' };
const sigType = { 'content-type': mediaTypes.signature };

async function put(h: Harness, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<void> {
  const res = await h.request('PUT', `/v1/files/${path}`, { headers: { ...octets, ...headers }, body });
  if (res.status !== 200) throw new Error(`PUT ${path}: ${res.status} ${res.body.toString()}`);
}

/** `base` with a few small edits, seeded. */
function edited(base: Buffer, seed: number): Buffer {
  const out = Buffer.from(base);
  for (let i = 1; i <= 3; i++) seededBytes(16, seed + i).copy(out, Math.floor((out.length * i) / 4));
  return Buffer.concat([out, Buffer.from(`appended ${seed}`)]);
}

async function signatureOf(bytes: Buffer): Promise<Buffer> {
  return Buffer.from(encodeSignature(await computeSignature([bytes], { basisLength: bytes.length })));
}

/** LEB128 (FORMAT.md §Conventions). */
function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    const low = n % 128;
    n = Math.floor(n / 128);
    out.push(n > 0 ? low | 0x80 : low);
  } while (n > 0);
  return Buffer.from(out);
}

/** A signature header (FORMAT.md §Signature) with the given fields and no block entries. */
function signatureHeader(strongLength: number, blockLength: number, basisLength: number): Buffer {
  return Buffer.concat([Buffer.from('DBXS'), Buffer.from([1, 1, 1, strongLength]), varint(blockLength), varint(basisLength), Buffer.alloc(8)]);
}

async function patched(t: Test, res: Response, base: Buffer): Promise<Buffer> {
  t.equal(res.status, 200, res.status === 200 ? 'a delta' : res.body.toString());
  t.equal(res.headers['content-type'], mediaTypes.delta);
  return Buffer.from(await applyDeltaToBuffer(base, res.body));
}

t.test('GET from a kept version gives a byte-exact delta that patches it into the current version', async (t) => {
  const h = await startServer(t);
  const v1 = seededBytes(300_000, 1);
  const v2 = edited(v1, 10);
  await put(h, 'docs/big.bin', v1);
  await put(h, 'docs/big.bin', v2, { 'x-deltabox-mtime-ms': '1700000000000', 'x-deltabox-executable': '1' });
  const res = await h.request('GET', `/v1/deltas/docs/big.bin?from=${await sha256(v1)}`);
  t.ok((await patched(t, res, v1)).equals(v2), 'the patched base is the current version');
  t.equal(res.headers.etag, `"${await sha256(v2)}"`);
  t.equal(res.headers['x-deltabox-mtime-ms'], '1700000000000');
  t.equal(res.headers['x-deltabox-executable'], '1');
  t.equal(res.headers['x-deltabox-revision'], String((await h.request('GET', '/v1/health')).json<{ revision: number }>().revision));
  t.equal(readDeltaHeader(res.body).basisLength, v1.length);
  t.ok(res.body.length < 1000, `a few small edits cost little (${res.body.length} bytes)`);

  const signed = await h.request('POST', '/v1/deltas/docs/big.bin', { headers: sigType, body: await signatureOf(v1) });
  t.ok((await patched(t, signed, v1)).equals(v2), 'POST with the base signature patches too');
  t.ok(res.body.length < signed.body.length, `byte-exact (${res.body.length} B) beats signature-only (${signed.body.length} B)`);
  const readOnly = await h.request('GET', `/v1/deltas/docs/big.bin?from=${await sha256(v1)}`, { headers: { authorization: `Bearer ${h.readOnlyToken}` } });
  t.equal(readOnly.status, 200, 'a read-only token may pull deltas');
});

t.test('the base may be the current content, or a kept version of another path', async (t) => {
  const h = await startServer(t);
  const a = seededBytes(50_000, 2);
  const b = edited(a, 20);
  await put(h, 'a.bin', a);
  await put(h, 'a.bin', seededBytes(10, 3)); // keeps `a` as a version of a.bin
  await put(h, 'b.bin', b);
  const cross = await h.request('GET', `/v1/deltas/b.bin?from=${await sha256(a)}`);
  t.ok((await patched(t, cross, a)).equals(b), 'a version of a.bin is the base of a delta of b.bin');
  const same = await h.request('GET', `/v1/deltas/b.bin?from=${await sha256(b)}`);
  t.ok((await patched(t, same, b)).equals(b), 'from the current content: a delta that copies it all');
  t.ok(same.body.length < 200, `and costs next to nothing (${same.body.length} bytes)`);
});

t.test('past the byte-exact basis limit the delta goes by the base signature, and still patches', async (t) => {
  const h = await startServer(t, { limits: { deltaByteExactMaxBasisBytes: 1000 } });
  const v1 = seededBytes(300_000, 4);
  const v2 = edited(v1, 40);
  await put(h, 'f.bin', v1);
  await put(h, 'f.bin', v2);
  const res = await h.request('GET', `/v1/deltas/f.bin?from=${await sha256(v1)}`);
  t.ok((await patched(t, res, v1)).equals(v2));
  const exact = await startServer(t);
  await put(exact, 'f.bin', v1);
  await put(exact, 'f.bin', v2);
  const small = await exact.request('GET', `/v1/deltas/f.bin?from=${await sha256(v1)}`);
  t.ok(small.body.length < res.body.length, `the byte-exact one is smaller (${small.body.length} < ${res.body.length} bytes)`);
});

t.test('GET refuses what it cannot answer with typed errors', async (t) => {
  const h = await startServer(t);
  await put(h, 'f.txt', Buffer.from('now'));
  await h.request('PUT', '/v1/dirs/d');
  const unknown = await h.request('GET', `/v1/deltas/f.txt?from=${await sha256('never stored')}`);
  t.equal(unknown.status, 404);
  t.equal(unknown.json().code, 'VERSION_NOT_FOUND', 'content the server does not hold');
  t.equal((await h.request('GET', '/v1/deltas/f.txt')).json().code, 'BAD_REQUEST', 'from is required');
  t.equal((await h.request('GET', '/v1/deltas/f.txt?from=abc')).json().code, 'BAD_REQUEST', 'from is a SHA-256');
  const hash = await sha256('now');
  t.equal((await h.request('GET', `/v1/deltas/none.txt?from=${hash}`)).json().code, 'NOT_FOUND');
  t.equal((await h.request('GET', `/v1/deltas/d?from=${hash}`)).json().code, 'TYPE_CONFLICT');
  t.equal((await h.request('GET', `/v1/deltas/..%2Fx?from=${hash}`)).json().code, 'BAD_PATH');
});

t.test('hostile signature bodies are typed 400s (or 413) and the server carries on', async (t) => {
  const h = await startServer(t, { limits: { maxSignatureBytes: 4096 } });
  const content = seededBytes(20_000, 5);
  await put(h, 'f.bin', content);
  const good = await signatureOf(seededBytes(20_000, 6));
  const bodies: Array<[string, Buffer, number]> = [
    ['garbage', seededBytes(300, 7), 400],
    ['truncated', good.subarray(0, good.length - 7), 400],
    ['bad magic', Buffer.concat([Buffer.from('XXXX'), good.subarray(4)]), 400],
    ['one byte', Buffer.from([1]), 400],
    ['block length 0', signatureHeader(8, 0, 1000), 400],
    ['strong length 9', signatureHeader(9, 1024, 1000), 400],
    ['2^53 - 1 bytes in 1-byte blocks', signatureHeader(8, 1, 2 ** 53 - 1), 413],
    ['blocks of 2^40 bytes', signatureHeader(8, 2 ** 40, 2 ** 41), 413],
  ];
  for (const [what, body, status] of bodies) {
    const res = await h.request('POST', '/v1/deltas/f.bin', { headers: sigType, body });
    t.equal(res.status, status, `${what}: ${res.body.toString()}`);
    t.equal(res.json().code, status === 400 ? 'BAD_REQUEST' : 'PAYLOAD_TOO_LARGE');
  }
  const tooLarge = await h.request('POST', '/v1/deltas/f.bin', { headers: sigType, body: Buffer.alloc(5000) });
  t.equal(tooLarge.status, 413, 'a body over maxSignatureBytes');
  t.equal(tooLarge.json().code, 'PAYLOAD_TOO_LARGE');
  t.equal((await h.request('POST', '/v1/deltas/f.bin', { headers: sigType })).json().code, 'BAD_REQUEST', 'no body');
  t.equal((await h.request('POST', '/v1/deltas/f.bin', { headers: octets, body: good })).json().code, 'BAD_REQUEST', 'another media type');
  const after = await h.request('POST', '/v1/deltas/f.bin', { headers: sigType, body: await signatureOf(content) });
  t.ok((await patched(t, after, content)).equals(content), 'a good signature still works afterwards');
});
