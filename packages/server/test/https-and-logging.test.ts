import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { buildServer, createToken, formatLogLine, readableLogStream } from '../src/index.js';
import { nodeCryptoCert, opensslCert, type CertAndKey } from './support/self-signed.js';

async function httpsRoundTrip(t: Test, dir: string, tls: CertAndKey): Promise<void> {
  const sdir = join(dir, 'served');
  const token = createToken(sdir, { name: `d${Math.random()}` });
  const app = await buildServer({ sdir, https: tls });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const port = (app.server.address() as AddressInfo).port;
  const get = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path, ca: tls.cert, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const health = await get('/v1/health');
  t.equal(health.status, 200, 'the certificate verifies against itself as CA');
  t.match(JSON.parse(health.body), { ok: true });
  t.equal((await get('/v1/files')).status, 200, 'authenticated routes work over TLS');
}

const haveOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

t.test('with a certificate and key the server speaks HTTPS (openssl certificate)', {
  skip: haveOpenssl ? false : 'openssl is not installed; the node:crypto certificate test below covers HTTPS',
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tls = opensslCert(dir);
  if (!tls) throw new Error('openssl is installed but could not make a certificate');
  await httpsRoundTrip(t, dir, tls);
});

t.test('with a certificate and key the server speaks HTTPS (node:crypto certificate)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await httpsRoundTrip(t, dir, nodeCryptoCert());
});

t.test('the server logs one pino line per request and never the token', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lines: Array<Record<string, unknown>> = [];
  let raw = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      raw += chunk.toString();
      lines.push(...chunk.toString().trim().split('\n').map((l: string) => JSON.parse(l)));
      done();
    },
  });
  const sdir = join(dir, 'served');
  const token = createToken(sdir, { name: 'd' });
  const app = await buildServer({ sdir, logger: { level: 'info', stream } });
  t.teardown(() => app.close());
  await app.inject({ method: 'GET', url: '/v1/health' });
  await app.inject({ method: 'PUT', url: '/v1/files/a.txt', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, payload: 'x' });
  await app.inject({ method: 'GET', url: '/v1/files', headers: { authorization: `Bearer ${token}` } });
  await app.inject({ method: 'GET', url: '/v1/files', headers: { authorization: 'Bearer dbx_wrong' } });
  const requestLines = lines.filter((l) => l.req !== undefined || l.res !== undefined);
  t.equal(requestLines.length, 3, 'one line per request, none for the health check at info level');
  t.match(requestLines[0], { msg: 'request', req: { method: 'PUT', url: '/v1/files/a.txt' }, res: { statusCode: 200 }, responseTime: Number });
  t.match(requestLines[2], { res: { statusCode: 401 } });
  t.notOk(raw.includes(token), 'the token is never logged');
  t.notOk(raw.includes('dbx_wrong'), 'not even a wrong one');
});

t.test('health checks are logged at debug level only', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...chunk.toString().trim().split('\n').map((l: string) => JSON.parse(l)));
      done();
    },
  });
  const app = await buildServer({ sdir: join(dir, 'served'), logger: { level: 'debug', stream } });
  t.teardown(() => app.close());
  await app.inject({ method: 'GET', url: '/v1/health' });
  t.match(lines.filter((l) => l.req !== undefined), [{ level: 20, req: { url: '/v1/health' } }]);
});

t.test('readable log lines for a terminal: one per request, escapes control characters', async (t) => {
  const out: string[] = [];
  const stream = readableLogStream({ write: (s: string) => out.push(s) });
  const time = Date.UTC(2026, 0, 1, 12, 34, 56);
  const request = { level: 30, time, msg: 'request', req: { method: 'PUT', url: '/v1/files/a%1B.txt' }, res: { statusCode: 200 }, responseTime: 3.1 };
  const failure = { level: 50, time, msg: 'internal error', err: { message: 'boom\u001b[2K' } };
  stream.write(`${JSON.stringify(request)}\n${JSON.stringify(failure).slice(0, 10)}`);
  stream.write(`${JSON.stringify(failure).slice(10)}\n`);
  await new Promise((r) => stream.end(r));
  t.equal(out.length, 2, 'a line split across writes is still one line');
  t.match(out[0], /^\d\d:\d\d:\d\d PUT \/v1\/files\/a%1B\.txt 200 3\.1 ms\n$/);
  t.match(out[1], /^\d\d:\d\d:\d\d ERROR internal error \(boom\\x1b\[2K\)\n$/);
  t.notMatch(out.join(''), /\u001b/, 'no raw escape reaches the terminal');
  t.equal(formatLogLine('not json'), 'not json');
});
