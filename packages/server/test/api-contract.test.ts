import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import { errorCatalogue } from '@deltabox/protocol';
import { startServer } from './support/harness.js';

const apiDoc = readFileSync(fileURLToPath(new URL('../../../docs/API.md', import.meta.url)), 'utf8');

t.test('every code in the error catalogue is documented in docs/API.md with its status', async (t) => {
  for (const [code, { status }] of Object.entries(errorCatalogue)) {
    t.match(apiDoc, new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`), `${code} has a row with status ${status}`);
  }
});

t.test('docs/API.md documents every route and the path rule', async (t) => {
  for (const heading of ['GET /v1/health', 'GET /v1/folder', 'GET /v1/files`', 'GET /v1/files/<path>', 'GET /v1/signatures/<path>', 'GET /v1/deltas/<path>', 'POST /v1/deltas/<path>', 'PUT /v1/files/<path>', 'PATCH /v1/files/<path>', 'DELETE /v1/files/<path>', 'POST /v1/moves', 'PUT /v1/dirs/<path>', 'DELETE /v1/dirs/<path>', 'POST /v1/batch', 'GET /v1/changes', 'POST /v1/uploads', 'HEAD /v1/uploads/<id>', 'PATCH /v1/uploads/<id>', 'DELETE /v1/uploads/<id>', 'GET /v1/history/<path>', 'GET /v1/trash', 'GET /v1/versions/<id>', 'POST /v1/restore']) {
    t.ok(apiDoc.includes(heading), heading);
  }
  t.match(apiDoc, /## Paths[\s\S]*NFC/);
});

t.test('error responses outside any route use the catalogue too', async (t) => {
  const h = await startServer(t);
  const unknown = await h.request('GET', '/v1/unknown');
  t.equal(unknown.status, 404);
  t.equal(unknown.json().code, 'NOT_FOUND');
  const badJson = await h.request('POST', '/v1/moves', { headers: { 'content-type': 'application/json' }, body: '{not json' });
  t.equal(badJson.json().code, 'BAD_REQUEST');
  const wrongType = await h.request('POST', '/v1/moves', { headers: { 'content-type': 'text/plain' }, body: 'x' });
  t.equal(wrongType.status, 400);
  const hugeHeader = await h.request('GET', '/v1/files', { headers: { 'x-filler': 'a'.repeat(20_000) } });
  t.equal(hugeHeader.status, 413, 'headers over the limit');
  t.equal(hugeHeader.json().code, 'PAYLOAD_TOO_LARGE');
  const badUrl = await h.request('GET', '/v1/files/%E0%A4%A');
  t.equal(badUrl.json().code, 'BAD_PATH');
  t.same(h.violations, [], 'every error body so far had a catalogue code with its status');
});

/** Sends raw bytes and returns the raw answer (status line, headers, body). */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    socket.on('data', (c) => (answer += c.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

t.test('requests Node itself would refuse with a bare status still get a catalogue body', async (t) => {
  const h = await startServer(t);
  const noHost = await rawExchange(h.port, 'GET /v1/health HTTP/1.1\r\nconnection: close\r\n\r\n');
  t.match(noHost, /^HTTP\/1.1 400/);
  t.match(noHost, /"code":"BAD_REQUEST"/, 'an HTTP/1.1 request without Host is a catalogue 400');
  const http10 = await rawExchange(h.port, 'GET /v1/health HTTP/1.0\r\n\r\n');
  t.match(http10, /^HTTP\/1.1 200/, 'HTTP/1.0 needs no Host');
  const expect = await rawExchange(h.port, `PUT /v1/files/x HTTP/1.1\r\nhost: a\r\nauthorization: Bearer ${h.token}\r\nexpect: teapot\r\ncontent-length: 1\r\nconnection: close\r\n\r\nx`);
  t.notOk(existsSync(join(h.sdir, 'x')), 'the refused request wrote nothing');
  t.match(expect, /^HTTP\/1.1 400/);
  t.match(expect, /"code":"BAD_REQUEST"/, 'an unsupported Expect is a catalogue 400');
  const refusedThenBadChunk = await rawExchange(h.port, `PATCH /v1/files/x HTTP/1.1\r\nhost: a\r\nexpect: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`);
  t.equal(refusedThenBadChunk.match(/HTTP\/1.1 /g)?.length, 1, 'a bad body after an answer does not add a second answer');
  const garbage = await rawExchange(h.port, 'NOT HTTP AT ALL\r\n\r\n');
  t.match(garbage, /"code":"BAD_REQUEST"/, 'garbage gets a catalogue 400');
});
