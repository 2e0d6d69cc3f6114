import t from 'tap';
import { symlinkSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type Harness } from './support/harness.js';

/** Raw URL suffixes after /v1/files/ (and /v1/dirs/): each must be refused with no effect outside the root. */
const hostile: string[] = [
  '../escape.txt',
  'a/../../escape.txt',
  '..',
  '%2e%2e/escape.txt',
  '%2E%2E/escape.txt',
  'a/%2e%2e/%2e%2e/escape.txt',
  '.%2e/escape.txt',
  '..%2fescape.txt',
  '%2e%2e%2fescape.txt',
  'a%2f..%2f..%2fescape.txt',
  '%2fetc%2fpasswd',
  '/etc/passwd',
  '..%5cescape.txt',
  '%5c..%5cescape.txt',
  'a%5cb.txt',
  'C:%5cwindows%5cescape.txt',
  'C:/escape.txt',
  'c%3A/escape.txt',
  'CON',
  'nul.txt',
  'a/COM1',
  'LPT1.log',
  'aux',
  'a%00b',
  '%00',
  'a%0ab',
  'a%7fb',
  '.deltabox/state.db',
  '.DeltaBox/state.db',
  '.deltabox',
  '.deltabox/tmp/x.staged',
  '%2edeltabox/state.db',
  '.DELTABOX',
  './a.txt',
  'a/./b',
  'a//b',
  'a/',
  '',
  'x'.repeat(300),
  '%',
  '%zz/file',
  '%E0%A4%A',
];

async function plantSymlinks(h: Harness): Promise<void> {
  symlinkSync(h.sentinel, join(h.sdir, 'dirlink')); // absolute, to the sentinel folder
  symlinkSync('../sentinel/keep.txt', join(h.sdir, 'filelink')); // relative, to the sentinel file
  symlinkSync('.deltabox', join(h.sdir, 'statelink')); // to the state folder
  symlinkSync('/', join(h.sdir, 'rootlink'));
}

t.test('at least 30 hostile paths are refused on every route and nothing is written outside the root', async (t) => {
  t.ok(hostile.length >= 30, `${hostile.length} hostile paths`);
  const h = await startServer(t);
  const attempts: Array<[string, string, string]> = [];
  for (const p of hostile) {
    attempts.push(['PUT', `/v1/files/${p}`, 'evil'], ['GET', `/v1/files/${p}`, ''], ['DELETE', `/v1/files/${p}`, ''], ['PATCH', `/v1/files/${p}`, 'x']);
    attempts.push(['GET', `/v1/signatures/${p}`, ''], ['PUT', `/v1/dirs/${p}`, ''], ['DELETE', `/v1/dirs/${p}?recursive=1`, '']);
  }
  for (const [method, url, body] of attempts) {
    const res = await h.request(method, url, {
      headers: { 'content-type': method === 'PATCH' ? 'application/vnd.deltabox.delta' : 'application/octet-stream', 'if-match': `"${'0'.repeat(64)}"` },
      body: body || undefined,
    });
    const code = res.json().code;
    if (!(res.status === 400 && code === 'BAD_PATH') && !(res.status === 404 && code === 'NOT_FOUND')) {
      t.fail(`${method} ${url} was not refused: ${res.status} ${res.body}`);
    }
  }
  t.pass(`${attempts.length} requests refused`);
  h.assertNothingOutside(t);
  t.same(readdirSync(h.sdir).sort(), ['.deltabox'], 'nothing was created in the served folder either');
  t.ok(existsSync(join(h.sdir, '.deltabox', 'state.db')), 'the state database is still there');
  t.equal((await h.request('GET', '/v1/files')).status, 200, 'the server still works');
});

t.test('hostile paths in JSON and multipart bodies are refused', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/ok.txt', { body: 'ok' });
  for (const [from, to] of [['ok.txt', '../escape.txt'], ['../sentinel/keep.txt', 'stolen.txt'], ['ok.txt', '.deltabox/state.db'], ['ok.txt', 'a\\b'], ['ok.txt', '/abs'], ['ok.txt', 'NUL']]) {
    const res = await h.request('POST', '/v1/moves', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from, to }) });
    t.equal(res.json().code, 'BAD_PATH', `move ${from} -> ${to}`);
  }
  const boundary = 'xBOUNDARYx';
  const meta = JSON.stringify({ path: '../escape.txt', size: 4, mtimeMs: 0, hash: 'a'.repeat(64) });
  const body = `--${boundary}\r\ncontent-disposition: form-data; name="meta"\r\n\r\n${meta}\r\n--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="f"\r\ncontent-type: application/octet-stream\r\n\r\nevil\r\n--${boundary}--\r\n`;
  const res = await h.request('POST', '/v1/batch', { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
  t.equal(res.status, 200);
  t.equal(res.json<{ results: Array<{ ok: boolean; error: { code: string } }> }>().results[0]!.error.code, 'BAD_PATH');
  h.assertNothingOutside(t);
});

t.test('symlinks planted in the served folder are never followed for reading or writing', async (t) => {
  const h = await startServer(t);
  await plantSymlinks(h);
  const refused = async (method: string, url: string, body?: string) => {
    const res = await h.request(method, url, { headers: { 'content-type': 'application/octet-stream' }, body });
    // Reads may stop earlier, at the index (the link was never indexed): refused either way.
    const codes = method === 'GET' ? ['BAD_PATH', 'NOT_FOUND'] : ['BAD_PATH'];
    const code = res.json<{ code: string }>().code;
    t.ok(codes.includes(code), `${method} ${url} -> ${res.status} ${code}`);
  };
  await refused('PUT', '/v1/files/dirlink/keep.txt', 'overwritten');
  await refused('PUT', '/v1/files/dirlink/new.txt', 'new');
  await refused('PUT', '/v1/files/filelink', 'overwritten');
  await refused('GET', '/v1/files/dirlink/keep.txt');
  await refused('PUT', '/v1/files/statelink/state.db', 'x');
  await refused('PUT', '/v1/files/rootlink/tmp/escape.txt', 'x');
  await refused('PUT', '/v1/dirs/dirlink/sub');
  await refused('PUT', '/v1/dirs/rootlink/tmp/escape-dir');
  await h.request('PUT', '/v1/files/real.txt', { body: 'real' });
  const move = await h.request('POST', '/v1/moves', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: 'real.txt', to: 'dirlink/real.txt' }) });
  t.equal(move.json().code, 'BAD_PATH', 'a move into a symlinked folder');
  const manifest = (await h.request('GET', '/v1/files')).body.toString();
  t.notMatch(manifest, /link/, 'symlinks are not listed');
  h.assertNothingOutside(t);
  t.notOk(existsSync('/tmp/escape.txt'), 'nothing written through the link to /');
  t.notOk(existsSync('/tmp/escape-dir'), 'no folder made through the link to /');
});

t.test('a symlink swapped in for a file after it was indexed is refused, not followed', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/victim.txt', { body: 'mine' });
  const { rmSync } = await import('node:fs');
  rmSync(join(h.sdir, 'victim.txt'));
  symlinkSync(join(h.sentinel, 'keep.txt'), join(h.sdir, 'victim.txt'));
  t.equal((await h.request('GET', '/v1/files/victim.txt')).json().code, 'BAD_PATH', 'read through O_NOFOLLOW');
  t.equal((await h.request('PUT', '/v1/files/victim.txt', { body: 'overwrite' })).json().code, 'BAD_PATH', 'write refused');
  t.equal((await h.request('DELETE', '/v1/files/victim.txt')).json().code, 'BAD_PATH', 'delete refused');
  h.assertNothingOutside(t);
});

t.test('paths are compared in NFC: two spellings of one name are one file', async (t) => {
  const h = await startServer(t);
  const put = await h.request('PUT', '/v1/files/caf%C3%A9.txt', { body: 'nfc' }); // é precomposed
  t.equal(put.json().path, 'café'.normalize('NFC') + '.txt');
  const get = await h.request('GET', '/v1/files/cafe%CC%81.txt'); // e + combining acute
  t.equal(get.status, 200);
  t.equal(get.body.toString(), 'nfc');
  t.same(readdirSync(h.sdir).filter((n) => n !== '.deltabox'), ['café.txt'.normalize('NFC')]);
});

t.test('a double-encoded traversal is a literal file name inside the root', async (t) => {
  const h = await startServer(t);
  const res = await h.request('PUT', '/v1/files/%252e%252e/escape.txt', { body: 'literal' });
  t.equal(res.status, 200);
  t.equal(res.json().path, '%2e%2e/escape.txt');
  t.ok(existsSync(join(h.sdir, '%2e%2e', 'escape.txt')));
  h.assertNothingOutside(t);
});
