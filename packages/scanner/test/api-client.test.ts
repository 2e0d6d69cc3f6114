import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient } from '../src/api-client.js';
import { ScannerError } from '../src/errors.js';

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
