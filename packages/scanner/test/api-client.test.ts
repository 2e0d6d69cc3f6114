import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, coalesced } from '../src/http/api-client.js';
import { ScannerError } from '../src/errors.js';
import { BATCH_FRAMES_PREFIX_BYTES, decodeBatchFramesHeader, decodeBatchFramesPrefix, mediaTypes } from '@deltabox/protocol';

/** A stand-in HTTP server whose answers each test chooses (the real server's contract is tested e2e). */
async function stub(t: Tap.Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<ApiClient> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new ApiClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'tok' });
  t.teardown(async () => {
    await client.close();
    await new Promise((r) => server.close(r));
  });
  return client;
}

t.test('API errors become ScannerErrors with the code the scanner branches on', async (t) => {
  const answers: Record<string, [number, string]> = {
    '/v1/files/conflict': [409, JSON.stringify({ code: 'BASE_MISMATCH', message: 'moved on', currentHash: 'abc' })],
    '/v1/files/auth': [401, JSON.stringify({ code: 'UNAUTHORIZED', message: 'bad token' })],
    '/v1/files/ro': [403, JSON.stringify({ code: 'FORBIDDEN', message: 'read-only' })],
    '/v1/files/down': [503, 'proxy says no'],
  };
  const client = await stub(t, (req, res) => {
    const [status, body] = answers[req.url!] ?? [500, '{}'];
    req.resume();
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  const fail = (path: string) => client.deleteFile(path).then(() => undefined, (e: unknown) => e as ScannerError);
  const conflict = await fail('conflict');
  t.match(conflict, { code: 'HTTP', status: 409, apiCode: 'BASE_MISMATCH', currentHash: 'abc' });
  t.match(await fail('auth'), { code: 'UNAUTHORIZED' });
  t.match(await fail('ro'), { code: 'FORBIDDEN' });
  t.match(await fail('down'), { code: 'UNREACHABLE' });
  t.ok(client.requestCount === 4 && client.wire.totals().sentBytes > 0, 'requests and wire bytes counted');
});

t.test('a refused connection is UNREACHABLE', async (t) => {
  const client = new ApiClient({ baseUrl: 'http://127.0.0.1:1', token: 'x' });
  t.teardown(() => client.close());
  const err = await client.health().catch((e: unknown) => e);
  t.match(err, { code: 'UNREACHABLE' });
});

t.test('the manifest is parsed line by line however the stream is split', async (t) => {
  const client = await stub(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'x-deltabox-revision': '42' });
    const text = '{"path":"a","type":"file","size":1,"mtimeMs":1,"hash":"h","revision":1}\n{"path":"d","type":"dir","size":0,"mtimeMs":0,"revision":2}\n';
    for (let i = 0; i < text.length; i += 7) res.write(text.slice(i, i + 7));
    res.end();
  });
  const entries = [];
  for await (const e of client.manifest()) entries.push(e.path);
  t.same(entries, ['a', 'd']);
  t.equal(client.lastManifestRevision, 42);
});

t.test('the manifest keeps multi-byte names intact however the stream is split', async (t) => {
  const names = ['café.txt', '日本語/ファイル.md', 'emoji-😀.bin', 'ß'];
  const text = names.map((path, i) => `${JSON.stringify({ path, type: 'file', size: 1, mtimeMs: 1, hash: 'h', revision: i + 1 })}\n`).join('');
  const bytes = Buffer.from(text, 'utf8');
  for (const size of [1, 2, 3, 5, 7, 13]) {
    const client = await stub(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'x-deltabox-revision': '4' });
      // One write per piece, each flushed on its own, so multi-byte characters straddle chunk boundaries.
      const pieces: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
      const next = () => {
        const piece = pieces.shift();
        if (piece === undefined) res.end();
        else res.write(piece, () => setImmediate(next));
      };
      next();
    });
    const got: string[] = [];
    for await (const e of client.manifest()) got.push(e.path);
    t.same(got, names, `split every ${size} byte(s)`);
  }
});

t.test('a bad last manifest line is a PROTOCOL error, not a raw SyntaxError', async (t) => {
  const client = await stub(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end('{"path":"a","type":"dir","size":0,"mtimeMs":0,"revision":1}\n{"path":"b", broken');
  });
  const err = await (async () => {
    for await (const _ of client.manifest()) void _;
  })().catch((e: unknown) => e);
  t.match(err, { name: 'ScannerError', code: 'PROTOCOL' });
});

t.test('a local file error while a body streams keeps its code and is not UNREACHABLE', async (t) => {
  const client = await stub(t, (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  async function* vanishing(): AsyncGenerator<Uint8Array> {
    yield new Uint8Array(1024);
    throw Object.assign(new Error("ENOENT: no such file or directory, open 'gone.bin'"), { code: 'ENOENT', syscall: 'open', errno: -2 });
  }
  const err = await client.putFile('gone.bin', vanishing(), { mtimeMs: 1, executable: false, hash: 'h', size: 4096 }).catch((e: unknown) => e);
  t.match(err, { code: 'ENOENT' }, 'the dispatcher sees the file is gone (it rescans), the scanner stays online');
  t.notOk(err instanceof ScannerError && err.code === 'UNREACHABLE');
});

t.test('an upload the server cuts off while it still answers is UPLOAD_CUT, not UNREACHABLE', async (t) => {
  const client = await stub(t, (req, res) => {
    if (req.url === '/v1/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"version":"x","revision":0}');
      return;
    }
    req.once('data', () => req.socket.destroy()); // refuses the body mid-way, as a server that answered early and closed
  });
  const big = new Uint8Array(8 * 1024 * 1024);
  async function* body(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < big.length; i += 64 * 1024) yield big.subarray(i, i + 64 * 1024);
  }
  const err = await client.patchFile('big.bin', body(), { mtimeMs: 1, executable: false, hash: 'h', ifMatch: 'b' }).catch((e: unknown) => e);
  t.match(err, { name: 'ScannerError', code: 'UPLOAD_CUT' });
});

t.test('a 429 during a bad-token storm is RATE_LIMITED, which is fatal like a refused token', async (t) => {
  const { isFatalError } = await import('../src/errors.js');
  const client = await stub(t, (req, res) => {
    req.resume();
    res.writeHead(429, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'RATE_LIMITED', message: 'slow down' }));
  });
  const err = await client.health().catch((e: unknown) => e);
  t.match(err, { code: 'RATE_LIMITED', status: 429 });
  t.ok(isFatalError(err));
});

t.test('a server without GET /v1/folder gives no folder identity; one with it gives its identity', async (t) => {
  const old = await stub(t, (req, res) => {
    req.resume();
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'NOT_FOUND', message: 'no route' }));
  });
  t.equal(await old.folderIdentity(), undefined);
  const current = await stub(t, (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ folderId: 'f', dev: '12', ino: '34' }));
  });
  t.same(await current.folderIdentity(), { folderId: 'f', dev: '12', ino: '34' });
});

t.test('a batch asks for the compact answer and rebuilds each entry from what it sent', async (t) => {
  const accepts: string[] = [];
  let answer: [string, unknown] = ['', {}];
  const client = await stub(t, (req, res) => {
    accepts.push(String(req.headers.accept));
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': answer[0] }).end(JSON.stringify(answer[1])));
  });
  const parts = ['a', 'b', 'c'].map((path, i) => ({ meta: { path, size: 1, mtimeMs: 1000.7 + i, hash: path.repeat(64), executable: i === 2 }, bytes: Buffer.from(path) }));
  const error = { code: 'HASH_MISMATCH', message: 'no' };
  answer = ['application/vnd.deltabox.batch-compact+json', { revisions: [41, 2], failed: [{ index: 1, path: 'b', error }] }];
  const { results } = await client.batch(parts);
  t.match(accepts[0], 'application/vnd.deltabox.batch-compact+json');
  t.same(results, [
    { path: 'a', ok: true, entry: { path: 'a', type: 'file', size: 1, mtimeMs: 1000, hash: 'a'.repeat(64), executable: false, revision: 41 } },
    { path: 'b', ok: false, error },
    { path: 'c', ok: true, entry: { path: 'c', type: 'file', size: 1, mtimeMs: 1002, hash: 'c'.repeat(64), executable: true, revision: 43 } },
  ]);
  answer = ['application/vnd.deltabox.batch-compact+json', { revisions: [41], failed: [] }];
  await t.rejects(client.batch(parts), { code: 'PROTOCOL' }, 'an answer that leaves a file out is refused');
  const plain = { results: [{ path: 'a', ok: false, error }] };
  answer = ['application/json; charset=utf-8', plain];
  t.same(await client.batch(parts.slice(0, 1)), plain, 'a server without the compact answer is read as before');
});

/** A stub batch server: records each request's content type and body; `answer` picks the reply by content type. */
async function batchStub(t: Tap.Test, answer: (contentType: string) => [number, unknown]) {
  const seen: Array<{ contentType: string; body: Buffer }> = [];
  const client = await stub(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = String(req.headers['content-type']);
      seen.push({ contentType, body: Buffer.concat(chunks) });
      const [status, body] = answer(contentType);
      res.writeHead(status, { 'content-type': status === 200 ? mediaTypes.batchCompact : 'application/json' }).end(JSON.stringify(body));
    });
  });
  return { client, seen };
}

const batchParts = ['a.txt', 'dir/b.sh', 'c'].map((path, i) => ({
  meta: { path, size: i + 1, mtimeMs: 1_700_000_000_000 + i, hash: String(i).repeat(64), executable: i === 1, ...(i === 2 ? { ifNoneMatch: true } : {}) },
  bytes: Buffer.from('xyz'.slice(0, i + 1)),
}));

t.test('a batch goes as a frames body: the header lists every part, then their bytes in order', async (t) => {
  const { client, seen } = await batchStub(t, () => [200, { revisions: [7, 1, 1], failed: [] }]);
  const { results } = await client.batch(batchParts);
  t.ok(results.every((r) => r.ok));
  t.equal(seen.length, 1, 'one request');
  t.equal(seen[0]!.contentType, mediaTypes.batchFrames);
  const body = seen[0]!.body;
  const { headerBytes, jsonBytes } = decodeBatchFramesPrefix(body, 1 << 20);
  const metas = decodeBatchFramesHeader(body.subarray(BATCH_FRAMES_PREFIX_BYTES, BATCH_FRAMES_PREFIX_BYTES + headerBytes), jsonBytes, 1000);
  t.same(metas, batchParts.map((p) => ({ executable: false, ...p.meta })));
  t.equal(body.subarray(BATCH_FRAMES_PREFIX_BYTES + headerBytes).toString(), 'xxyxyz', 'the bytes of each part, back to back');
});

t.test('a server that refuses the frames media type gets the batch as multipart, and every later one', async (t) => {
  const unsupported = { code: 'BAD_REQUEST', message: `Unsupported Media Type: ${mediaTypes.batchFrames}` };
  for (const [status, body] of [[400, unsupported], [415, 'Unsupported Media Type']] as const) {
    const { client, seen } = await batchStub(t, (type) => (type === mediaTypes.batchFrames ? [status, body] : [200, { revisions: [7, 1, 1], failed: [] }]));
    t.ok((await client.batch(batchParts)).results.every((r) => r.ok), `${status}: the batch went through`);
    t.ok((await client.batch(batchParts)).results.every((r) => r.ok));
    t.same(seen.map((s) => s.contentType.split(';')[0]), [mediaTypes.batchFrames, 'multipart/form-data', 'multipart/form-data'], `${status}: frames once, then multipart`);
    t.match(seen[1]!.body.toString(), /name="meta"[\s\S]*"path":"a\.txt"/, 'the multipart body carries the same parts');
  }
});

t.test('a batch refused for another reason is not sent again as multipart', async (t) => {
  const answers: Array<[number, unknown]> = [
    [400, { code: 'TRUNCATED_UPLOAD', message: 'the body ended at byte 10' }],
    [413, { code: 'PAYLOAD_TOO_LARGE', message: 'too many parts' }],
    [500, { code: 'INTERNAL', message: 'internal error' }],
  ];
  for (const [status, body] of answers) {
    const { client, seen } = await batchStub(t, () => [status, body]);
    await t.rejects(client.batch(batchParts), { code: 'HTTP', status }, `${status} reaches the caller`);
    t.same(seen.map((s) => s.contentType), [mediaTypes.batchFrames], `${status}: no multipart retry`);
  }
});

t.test('a batch body goes in few writes without copying large parts: small chunks are joined, large ones pass as they are', async (t) => {
  const big = Buffer.alloc(100_000, 1);
  const chunks = [Buffer.from('head'), ...Array.from({ length: 40 }, (_, i) => Buffer.alloc(2_000, i)), big, Buffer.from('a'), Buffer.from('b')];
  const out = [...coalesced(chunks, 64 * 1024)];
  t.ok(Buffer.concat(out).equals(Buffer.concat(chunks)), 'the same bytes in the same order');
  t.same(out.map((c) => c.length), [66_004, 14_000, 100_000, 2], 'runs of small chunks up to 64 KiB, the large chunk alone, the rest');
  t.equal(out[2], big, 'the large chunk itself, not a copy');
});
