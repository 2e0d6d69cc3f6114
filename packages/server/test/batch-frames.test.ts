/** POST /v1/batch with a frames body (docs/API.md §POST /v1/batch, "Frames body"), on a real server. */
import t, { type Test } from 'tap';
import { readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { mediaTypes, expandRevisions, type BatchResponse, type CompactBatchResponse } from '@deltabox/protocol';
import { sha256, startServer, type Harness, type Response } from './support/harness.js';
import { framesBody, framesHeaders, rawFramesBody } from './support/frames.js';
import { makeDelta } from './support/deltas.js';
import { seededBytes } from './support/seeded-bytes.js';
import type { BatchFile } from './support/multipart.js';

const hash = 'ab'.repeat(32);

async function manifestPaths(h: Harness): Promise<string[]> {
  const text = (await h.request('GET', '/v1/files')).body.toString().trim();
  return text === '' ? [] : text.split('\n').map((l) => JSON.parse(l).path as string);
}

const post = (h: Harness, body: Buffer, headers: Record<string, string> = {}): Promise<Response> =>
  h.request('POST', '/v1/batch', { headers: { ...framesHeaders, ...headers }, body });

/** Fails the test unless the request committed nothing: no file listed, none staged. */
async function nothingCommitted(t: Test, h: Harness, what: string): Promise<void> {
  t.same(await manifestPaths(h), [], `${what}: nothing committed`);
  t.same(h.stagedFiles(), [], `${what}: nothing left staged`);
}

/** Four good parts, for bodies that go wrong only after them. */
const goodFiles: BatchFile[] = Array.from({ length: 4 }, (_, i) => ({ path: `good/f${i}.txt`, content: `good ${i}` }));

t.test('a frames batch writes many files, each with its own result, in one request', async (t) => {
  const h = await startServer(t);
  const files: BatchFile[] = Array.from({ length: 300 }, (_, i) => ({ path: `d${i % 7}/f${i}.txt`, content: `content ${i}`, mtimeMs: 1_600_000_000_000 + i }));
  files.push({ path: 'run.sh', content: '#!/bin/sh\n', executable: true }, { path: 'empty.txt', content: '' }, { path: 'big.bin', content: Buffer.alloc(200_000, 7) });
  const res = await post(h, framesBody(files));
  t.equal(res.status, 200);
  const { results } = res.json<BatchResponse>();
  t.equal(results.length, files.length);
  t.ok(results.every((r) => r.ok), 'every part succeeded');
  t.match(results[7], { path: 'd0/f7.txt', ok: true, entry: { size: 9, hash: await sha256('content 7'), mtimeMs: 1_600_000_000_007, executable: false } });
  t.equal(readFileSync(join(h.sdir, 'd5/f299.txt'), 'utf8'), 'content 299');
  t.equal(statSync(join(h.sdir, 'run.sh')).mode & 0o111, 0o111, 'flag bit 0 made it executable');
  t.equal(statSync(join(h.sdir, 'empty.txt')).size, 0);
  t.equal(readFileSync(join(h.sdir, 'big.bin')).equals(Buffer.alloc(200_000, 7)), true, 'a part over many network chunks');
  t.equal((await manifestPaths(h)).length, files.length + 7, 'every file and its folder listed');
  t.same(h.stagedFiles(), []);
});

t.test('a frames batch gets the compact answer when it asks for it', async (t) => {
  const h = await startServer(t);
  const files: BatchFile[] = [{ path: 'a.txt', content: 'one' }, { path: 'bad.txt', content: 'two', meta: { hash } }, { path: 'b.txt', content: 'three' }];
  const res = await post(h, framesBody(files), { accept: mediaTypes.batchCompact });
  t.equal(res.status, 200);
  t.match(res.headers['content-type'], mediaTypes.batchCompact);
  const compact = res.json<CompactBatchResponse>();
  t.match(compact.failed, [{ index: 1, path: 'bad.txt', error: { code: 'HASH_MISMATCH' } }]);
  t.equal(compact.failed.length, 1);
  const manifest = new Map((await h.request('GET', '/v1/files')).body.toString().trim().split('\n').map((l) => JSON.parse(l)).map((e) => [e.path, e.revision]));
  t.same(expandRevisions(compact.revisions), [manifest.get('a.txt'), manifest.get('b.txt')]);
});

t.test('a bad frames part fails alone, its bytes skipped, and the parts after it are written whole', async (t) => {
  const h = await startServer(t, { limits: { batchMaxPartBytes: 1000 } });
  const res = await post(h, framesBody([
    { path: 'good1.txt', content: 'one' },
    { path: 'badhash.txt', content: 'two', meta: { hash } },
    { path: '../escape.txt', content: 'three' },
    { path: 'huge.bin', content: Buffer.alloc(5000, 1) },
    { path: 'badform.txt', content: 'four', meta: { hash: 'not-a-hash' } },
    { path: 'badtime.txt', content: 'five', meta: { mtimeMs: 1e300 } },
    { path: 'good2.txt', content: 'six' },
  ]));
  t.equal(res.status, 200);
  const { results } = res.json<BatchResponse>();
  t.same(results.map((r) => [r.path, r.ok ? 'ok' : r.error.code]), [
    ['good1.txt', 'ok'],
    ['badhash.txt', 'HASH_MISMATCH'],
    ['../escape.txt', 'BAD_PATH'],
    ['huge.bin', 'PAYLOAD_TOO_LARGE'],
    ['badform.txt', 'BAD_REQUEST'],
    ['badtime.txt', 'BAD_REQUEST'],
    ['good2.txt', 'ok'],
  ]);
  t.same(await manifestPaths(h), ['good1.txt', 'good2.txt'], 'only the good parts were written');
  t.equal(readFileSync(join(h.sdir, 'good2.txt'), 'utf8'), 'six', 'read from the right offset after the skipped parts');
  t.same(h.stagedFiles(), []);
  h.assertNothingOutside(t);
});

t.test('frames parts honour create-only flags and x-deltabox-since, as multipart parts do', async (t) => {
  const h = await startServer(t);
  t.equal((await post(h, framesBody([{ path: 'same.txt', content: 'made on device A' }, { path: 'd/x.txt', content: 'x' }]))).status, 200);
  const res = await post(h, framesBody([
    { path: 'same.txt', content: 'made on device B', meta: { ifNoneMatch: true } },
    { path: 'same.txt', content: 'made on device A', meta: { ifNoneMatch: true } },
    { path: 'new.txt', content: 'new', meta: { ifNoneMatch: true } },
  ]));
  const results = res.json<BatchResponse>().results;
  t.same(results.map((r) => (r.ok ? 'ok' : r.error.code)), ['BASE_MISMATCH', 'ok', 'ok'], 'flag bit 1 is create-only; the same content again is fine');
  t.match(results[0], { error: { currentHash: await sha256('made on device A') } });
  t.equal(readFileSync(join(h.sdir, 'same.txt'), 'utf8'), 'made on device A');
  const moved = await h.request('POST', '/v1/moves', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: 'd', to: 'e' }) });
  const since = String(moved.json<{ revision: number }>().revision - 1);
  const late = await post(h, framesBody([{ path: 'd/y.txt', content: 'late', meta: { ifNoneMatch: true } }]), { 'x-deltabox-since': since });
  t.same(late.json<BatchResponse>().results.map((r) => (r.ok ? 'ok' : r.error.code)), ['PARENT_CHANGED']);
  t.notOk(statSync(join(h.sdir, 'd'), { throwIfNoEntry: false }), 'the old folder is not made again');
});

t.test('a header over its length limit is refused before it is read, and nothing is committed', async (t) => {
  const h = await startServer(t, { limits: { batchMaxFiles: 10, batchMaxMetaBytes: 100 } });
  const body = framesBody(goodFiles);
  for (const [at, what] of [[0, 'header'], [4, 'header JSON']] as const) {
    const lying = Buffer.from(body);
    lying.writeUInt32BE(1001, at); // over 10 x 100
    const res = await post(h, lying);
    t.equal(res.status, 413, what);
    t.match(res.json(), { code: 'PAYLOAD_TOO_LARGE', message: new RegExp(`${what} of 1001 bytes is over the 1000-byte limit`) });
  }
  const huge = Buffer.from(body);
  huge.writeUInt32BE(0xffffffff, 0);
  t.equal((await post(h, huge)).status, 413, 'a 4 GiB header is refused at once, not waited for');
  await nothingCommitted(t, h, 'lengths over the limit');
});

t.test('a header listing more parts than batchMaxFiles is 413 and nothing is committed', async (t) => {
  const h = await startServer(t, { limits: { batchMaxFiles: 3 } });
  const res = await post(h, framesBody(goodFiles));
  t.equal(res.status, 413);
  t.match(res.json(), { code: 'PAYLOAD_TOO_LARGE', message: /4 parts, over the 3-part limit/ });
  await nothingCommitted(t, h, 'too many parts');
});

t.test('a header that is not deflated JSON of the right shape is 400 and nothing is committed', async (t) => {
  const h = await startServer(t);
  const good = goodFiles.map((f) => f.content as string);
  const tuples = goodFiles.map((f, i) => [f.path, good[i]!.length, 1, hash, 0]);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['JSON not deflated', Buffer.from('\0\0\0\x02\0\0\0\x02{}'), /not raw deflate/],
    ['a JSON length that does not match', rawFramesBody({ v: 1, parts: tuples }, good, { jsonBytes: 10 }), /not raw deflate of 10 bytes/],
    ['not JSON', rawFramesBody('{"v":1,"parts":[', good), /not UTF-8 JSON/],
    ['an unknown version', rawFramesBody({ v: 2, parts: tuples }, good), /version is 2/],
    ['no parts array', rawFramesBody({ v: 1, files: tuples }, good), /no parts array/],
    ['a part of four fields', rawFramesBody({ v: 1, parts: [...tuples, ['x', 1, 1, hash]] }, [...good, 'x']), /part 4: must be/],
    ['a size that is not a byte count', rawFramesBody({ v: 1, parts: [...tuples, ['x', -1, 1, hash, 0]] }, good), /part 4: size must be a byte count/],
    ['an unknown flag', rawFramesBody({ v: 1, parts: [...tuples, ['x', 1, 1, hash, 16]] }, [...good, 'x']), /part 4: flags/],
    ['a hash that is not a string', rawFramesBody({ v: 1, parts: [...tuples, ['x', 1, 1, 7, 0]] }, [...good, 'x']), /part 4: hash must be a string/],
  ];
  for (const [what, body, message] of cases) {
    const res = await post(h, body);
    t.equal(res.status, 400, what);
    t.match(res.json(), { code: 'BAD_REQUEST', message }, what);
  }
  await nothingCommitted(t, h, 'bad headers');
});

t.test('a frames body cut short anywhere is TRUNCATED_UPLOAD and nothing is committed', async (t) => {
  const h = await startServer(t);
  const body = framesBody([...goodFiles, { path: 'last.bin', content: Buffer.alloc(50_000, 3) }]);
  const headerEnd = 8 + body.readUInt32BE(0);
  for (const [cut, what] of [[0, 'an empty body'], [5, 'inside the prefix'], [headerEnd - 3, 'inside the header'], [body.length - 1, 'one byte short of the last part'], [body.length - 40_000, 'inside the last part']] as const) {
    const res = await post(h, body.subarray(0, cut));
    t.equal(res.status, 400, what);
    t.match(res.json(), { code: 'TRUNCATED_UPLOAD', message: /the body ended at byte/ }, what);
  }
  await nothingCommitted(t, h, 'truncated bodies');
});

t.test('bytes after the last part make the body a bad request and nothing is committed', async (t) => {
  const h = await startServer(t);
  for (const [tail, what] of [['x', 'one byte'], [Buffer.alloc(100_000), 'many bytes']] as const) {
    const res = await post(h, Buffer.concat([framesBody(goodFiles), Buffer.from(tail)]));
    t.equal(res.status, 400, what);
    t.match(res.json(), { code: 'BAD_REQUEST', message: /goes on after the last part/ }, what);
  }
  const empty = await post(h, Buffer.concat([framesBody([]), Buffer.from('!')]));
  t.match(empty.json(), { code: 'BAD_REQUEST', message: /goes on after the header/ }, 'an empty batch with a byte after it');
  await nothingCommitted(t, h, 'bytes after the last part');
  const fine = await post(h, framesBody([]));
  t.same(fine.json(), { results: [] }, 'an empty batch alone is fine');
});

t.test('a frames body sent in pieces of any size reads the same', async (t) => {
  const h = await startServer(t);
  const files = Array.from({ length: 20 }, (_, i) => ({ path: `p/f${i}.txt`, content: `piece ${i} `.repeat(i) }));
  const body = framesBody(files);
  const pieces = [1, 2, 3, 7, 15, 100];
  const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: h.port, method: 'POST', path: '/v1/batch', headers: { ...framesHeaders, authorization: `Bearer ${h.token}`, 'transfer-encoding': 'chunked' } }, (r) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    void (async () => {
      for (let at = 0, k = 0; at < body.length; k++) {
        const n = pieces[k % pieces.length]!;
        req.write(body.subarray(at, at + n));
        at += n;
        await new Promise((r) => setImmediate(r)); // each piece its own chunk on the wire, mostly
      }
      req.end();
    })();
  });
  t.equal(res.status, 200);
  t.ok((JSON.parse(res.text) as BatchResponse).results.every((r) => r.ok));
  for (const f of files) t.equal(readFileSync(join(h.sdir, f.path), 'utf8'), f.content, f.path);
});

t.test('a batch body of any other media type is a bad request naming both encodings', async (t) => {
  const h = await startServer(t);
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': 'application/octet-stream' }, body: framesBody(goodFiles) });
  t.equal(res.status, 400, 'as an older server answers a frames body');
  t.equal(res.json().code, 'BAD_REQUEST');
  const json = await h.request('POST', '/v1/batch', { headers: { 'content-type': 'application/json' }, body: '{}' });
  t.match(json.json(), { code: 'BAD_REQUEST', message: new RegExp(`${mediaTypes.batchFrames} or multipart/form-data`) });
  await nothingCommitted(t, h, 'other media types');
});

t.test('delta parts patch the version they name in the group commit; each bad one fails alone and changes nothing', async (t) => {
  const h = await startServer(t);
  const v1 = (i: number) => seededBytes(20_000, 40 + i);
  const v2 = (i: number) => {
    const b = Buffer.from(v1(i));
    Buffer.from(`edit ${i}`).copy(b, 5_000 + 100 * i);
    return b;
  };
  const names = ['good.bin', 'stale.bin', 'garbage.bin', 'wronghash.bin', 'whole.txt', 'wholestale.txt'];
  t.equal((await post(h, framesBody(names.map((path, i) => ({ path, content: v1(i) }))))).status, 200);
  const base = await Promise.all(names.map((_, i) => sha256(v1(i))));
  const deltaPart = async (i: number, meta: Record<string, unknown> = {}): Promise<BatchFile> => ({
    path: names[i]!,
    content: await makeDelta(v1(i), v2(i)),
    meta: { hash: await sha256(v2(i)), ifMatch: base[i], delta: true, ...meta },
  });
  const res = await post(h, framesBody([
    await deltaPart(0),
    await deltaPart(1, { ifMatch: await sha256('an older version') }),
    { path: names[2]!, content: 'not a delta at all', meta: { hash: await sha256(v2(2)), ifMatch: base[2], delta: true } },
    await deltaPart(3, { hash: await sha256('something else') }),
    { path: names[4]!, content: v2(4), meta: { ifMatch: base[4] } },
    { path: names[5]!, content: v2(5), meta: { ifMatch: await sha256('an older version') } },
    { path: 'new.txt', content: 'after them all' },
  ]), { accept: mediaTypes.batchCompact });
  t.equal(res.status, 200);
  const compact = res.json<CompactBatchResponse>();
  t.same(compact.failed.map((f) => [f.index, f.error.code]), [[1, 'BASE_MISMATCH'], [2, 'DELTA_MALFORMED'], [3, 'HASH_MISMATCH'], [5, 'BASE_MISMATCH']]);
  t.equal(compact.revisions.length, 3, 'the good delta, the good whole part and the new file');
  t.ok(readFileSync(join(h.sdir, 'good.bin')).equals(v2(0)), 'the delta part made the new version');
  t.ok(readFileSync(join(h.sdir, 'whole.txt')).equals(v2(4)), 'a whole part with ifMatch replaced its base');
  for (const i of [1, 2, 3, 5]) t.ok(readFileSync(join(h.sdir, names[i]!)).equals(v1(i)), `${names[i]} is left as it was`);
  t.equal(readFileSync(join(h.sdir, 'new.txt'), 'utf8'), 'after them all', 'read from the right offset after the delta parts');
  const history = (await h.request('GET', '/v1/history/good.bin')).json<{ versions: Array<{ hash: string }> }>();
  t.ok(history.versions.some((v) => v.hash === base[0]), 'the replaced version is kept in history');
  t.same(h.stagedFiles(), []);

  const again = await post(h, framesBody([await deltaPart(0)]));
  t.match(again.json<BatchResponse>().results, [{ ok: true, entry: { path: 'good.bin', hash: await sha256(v2(0)) } }], 'the same delta again (its answer lost) finds its result there');
});

t.test('a delta part staged against a version that a part before it replaced fails at commit', async (t) => {
  const h = await startServer(t);
  const old = seededBytes(10_000, 61);
  t.equal((await post(h, framesBody([{ path: 'x.bin', content: old }]))).status, 200);
  const oldHash = await sha256(old);
  const theirs = Buffer.concat([old, Buffer.from('their edit')]);
  const mine = Buffer.concat([Buffer.from('my edit'), old]);
  const res = await post(h, framesBody([
    { path: 'x.bin', content: theirs, meta: { ifMatch: oldHash } },
    { path: 'x.bin', content: await makeDelta(old, mine), meta: { hash: await sha256(mine), ifMatch: oldHash, delta: true } },
  ]));
  t.same(res.json<BatchResponse>().results.map((r) => (r.ok ? 'ok' : r.error.code)), ['ok', 'BASE_MISMATCH'], 'the base was checked again under the lock');
  t.ok(readFileSync(join(h.sdir, 'x.bin')).equals(theirs), 'the first write stands');
  t.same(h.stagedFiles(), []);
});

t.test('meta fields of conditional and delta parts are checked alone', async (t) => {
  const h = await startServer(t);
  const res = await post(h, rawFramesBody({ v: 1, parts: [['a', 2, 1, hash, 4, 'nothex'], ['b', 2, 1, hash, 12, hash], ['c', 1, 1, await sha256('c'), 0]] }, ['aa', 'bb', 'c']));
  t.same(res.json<BatchResponse>().results.map((r) => (r.ok ? 'ok' : r.error.code)), ['BAD_REQUEST', 'BASE_MISMATCH', 'ok'], 'a bad ifMatch; a delta against nothing (as a PATCH of a missing file)');
});
