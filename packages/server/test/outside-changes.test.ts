/**
 * The served folder changed behind the server's back (a file edited, deleted or added by hand): the server
 * checks the disk before using a file, answers as if the new content had always been there, and journals
 * the change so clients hear of it; the periodic pass finds what nobody asked about.
 */
import t from 'tap';
import { connect } from 'node:net';
import { rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatEtag, mediaTypes, type ChangeRecord } from '@deltabox/protocol';
import { makeDelta } from './support/deltas.js';
import { sha256, startServer, waitFor, type Harness } from './support/harness.js';

async function changesSince(h: Harness, since: number): Promise<ChangeRecord[]> {
  return (await h.request('GET', `/v1/changes?since=${since}`)).json<{ changes: ChangeRecord[] }>().changes;
}

async function latest(h: Harness): Promise<number> {
  return (await h.request('GET', '/v1/health')).json<{ revision: number }>().revision;
}

async function put(h: Harness, path: string, body: string): Promise<string> {
  const res = await h.request('PUT', `/v1/files/${path}`, { body });
  if (res.status !== 200) throw new Error(`PUT ${path}: ${res.status} ${res.body.toString()}`);
  return res.json<{ hash: string }>().hash;
}

/** Writes by hand with an mtime moved away from the indexed one (a same-millisecond edit is its own test). */
function editByHand(file: string, body: string, mtimeSec = Date.now() / 1000 + 5): void {
  writeFileSync(file, body);
  utimesSync(file, mtimeSec, mtimeSec);
}

t.test('a file edited by hand is served, diffed against and journaled as its new content', async (t) => {
  const h = await startServer(t, { limits: { verifyIntervalMs: 0 } });
  const oldHash = await put(h, 'a.txt', 'one version');
  const since = await latest(h);
  editByHand(join(h.sdir, 'a.txt'), 'two version'); // same size
  const newHash = await sha256('two version');

  const patch = await h.request('PATCH', '/v1/files/a.txt', {
    headers: { 'content-type': mediaTypes.delta, 'if-match': formatEtag(oldHash) },
    body: await makeDelta(Buffer.from('one version'), Buffer.from('one version, longer')),
  });
  t.equal(patch.status, 412, 'a delta against the old content is BASE_MISMATCH, not 422');
  t.equal(patch.json().code, 'BASE_MISMATCH');
  t.equal(patch.json().currentHash, newHash, 'with the hash of what is on disk now');
  const changes = await changesSince(h, since);
  t.match(changes, [{ op: 'put', path: 'a.txt', hash: newHash }], 'the journal carries the hand edit');

  const get = await h.request('GET', '/v1/files/a.txt');
  t.equal(get.body.toString(), 'two version');
  t.equal(get.headers.etag, formatEtag(newHash));
  const put2 = await h.request('PUT', '/v1/files/a.txt', { headers: { 'if-match': formatEtag(oldHash) }, body: 'x' });
  t.equal(put2.status, 412, 'If-Match of the old content is refused');
  t.equal(put2.json().currentHash, newHash);
  const patched = await h.request('PATCH', '/v1/files/a.txt', {
    headers: { 'content-type': mediaTypes.delta, 'if-match': formatEtag(newHash) },
    body: await makeDelta(Buffer.from('two version'), Buffer.from('two version, longer')),
  });
  t.equal(patched.status, 200, 'a delta against the new content applies');
  t.equal((await changesSince(h, since)).length, 2, 'one record for the hand edit, one for the patch');
});

t.test('a same-size edit inside the same second is caught by the inode and sub-millisecond mtime', async (t) => {
  const h = await startServer(t, { limits: { verifyIntervalMs: 0 } });
  await put(h, 'b.txt', 'aaaa');
  const file = join(h.sdir, 'b.txt');
  rmSync(file);
  writeFileSync(file, 'bbbb'); // a new inode, as an editor's save-by-rename gives
  const get = await h.request('GET', '/v1/files/b.txt');
  t.equal(get.headers.etag, formatEtag(await sha256('bbbb')));
});

t.test('a file touched without a change is re-hashed once and journals nothing', async (t) => {
  const h = await startServer(t, { limits: { verifyIntervalMs: 0 } });
  const hash = await put(h, 'c.txt', 'same');
  const since = await latest(h);
  const file = join(h.sdir, 'c.txt');
  writeFileSync(file, 'same');
  const st = (await import('node:fs')).statSync(file);
  const indexed = (await h.request('GET', '/v1/files')).body.toString();
  const mtimeMs = JSON.parse(indexed.trim().split('\n').find((l) => l.includes('c.txt'))!).mtimeMs as number;
  utimesSync(file, st.atime, (mtimeMs + 0.4) / 1000); // same millisecond, new sub-ms part: only the token moved
  t.equal((await h.request('GET', '/v1/files/c.txt')).headers.etag, formatEtag(hash));
  t.same(await changesSince(h, since), [], 'no journal record for a touch');
});

/**
 * Sends a PATCH with a body of `bodyBytes` over a raw socket that writes the whole body before it reads
 * anything (as a client busy uploading does), and resolves the answer's status line or the socket error.
 */
function bigPatch(h: Harness, path: string, ifMatch: string, bodyBytes: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(h.port, '127.0.0.1');
    let answer = '';
    let failure = '';
    socket.on('data', (c) => (answer += String(c)));
    socket.on('error', (err: NodeJS.ErrnoException) => (failure ||= err.code ?? err.message));
    socket.on('close', () => resolve(failure ? `error ${failure}` : answer.split('\r\n')[0]!));
    socket.write(
      `PATCH /v1/files/${path} HTTP/1.1\r\nhost: a\r\nauthorization: Bearer ${h.token}\r\ncontent-type: ${mediaTypes.delta}\r\n` +
        `if-match: ${formatEtag(ifMatch)}\r\ncontent-length: ${bodyBytes}\r\nconnection: close\r\n\r\n`,
    );
    const chunk = Buffer.alloc(1024 * 1024);
    let left = bodyBytes;
    const pump = (): void => {
      while (left > 0 && !failure) {
        const piece = chunk.subarray(0, Math.min(left, chunk.length));
        left -= piece.length;
        if (!socket.write(piece)) return void socket.once('drain', pump);
      }
    };
    pump();
  });
}

t.test('a file deleted by hand gets an answer, not a cut connection, and the journal records it', async (t) => {
  const h = await startServer(t, { limits: { verifyIntervalMs: 0 } });
  const hash = await put(h, 'gone.bin', 'soon gone');
  const since = await latest(h);
  rmSync(join(h.sdir, 'gone.bin'));
  const answer = await bigPatch(h, 'gone.bin', hash, 24 * 1024 * 1024);
  t.equal(answer, 'HTTP/1.1 412 Precondition Failed', 'a 24 MiB delta against a deleted basis is answered, its body read (no EPIPE)');
  t.match(await changesSince(h, since), [{ op: 'delete', path: 'gone.bin' }]);
  t.equal((await h.request('GET', '/v1/files/gone.bin')).status, 404);
  const manifest = (await h.request('GET', '/v1/files')).body.toString();
  t.notMatch(manifest, /gone\.bin/, 'the manifest no longer lists it');
  const again = await h.request('GET', '/v1/health');
  t.equal(again.status, 200, 'the server is fine afterwards');
});

t.test('the periodic pass journals files added and deleted by hand that nobody asked about', async (t) => {
  const h = await startServer(t, { limits: { verifyIntervalMs: 50 } });
  await put(h, 'old.txt', 'old');
  const since = await latest(h);
  (await import('node:fs')).mkdirSync(join(h.sdir, 'new', 'deep'), { recursive: true });
  writeFileSync(join(h.sdir, 'new', 'deep', 'added.txt'), 'added');
  rmSync(join(h.sdir, 'old.txt'));
  const wanted = ['mkdir new', 'mkdir new/deep', 'put new/deep/added.txt', 'delete old.txt'];
  let seen: string[] = [];
  await waitFor(async () => {
    seen = (await changesSince(h, since)).map((c) => `${c.op} ${c.path}`);
    return wanted.every((w) => seen.includes(w));
  }, `the journal to carry ${wanted.join(', ')} (it has ${seen.join(', ')})`);
  t.equal(seen.length, wanted.length, 'each change once');
  t.equal((await h.request('GET', '/v1/files/new/deep/added.txt')).body.toString(), 'added');
});

t.test('a file added by hand is served at once, with its folders', async (t) => {
  const h = await startServer(t, { limits: { verifyIntervalMs: 0 } });
  const since = await latest(h);
  (await import('node:fs')).mkdirSync(join(h.sdir, 'x'));
  writeFileSync(join(h.sdir, 'x', 'y.txt'), 'hand made');
  const get = await h.request('GET', '/v1/files/x/y.txt');
  t.equal(get.status, 200);
  t.equal(get.body.toString(), 'hand made');
  t.match((await changesSince(h, since)).map((c) => `${c.op} ${c.path}`), ['mkdir x', 'put x/y.txt']);
});

t.test('rows of an older server (no stat identity) are adopted by size and mtime at start, without re-hashing', async (t) => {
  const { buildApp } = await import('../src/index.js');
  const Database = (await import('better-sqlite3')).default;
  const h = await startServer(t, { limits: { verifyIntervalMs: 0 } });
  const hash = await put(h, 'kept.txt', 'old bytes');
  await h.app.close();
  const db = new Database(join(h.sdir, '.deltabox', 'state.db'));
  db.prepare('UPDATE entries SET stat_token = NULL').run();
  db.close();
  // Same size and mtime, other bytes: what an older server trusted. Hashing everything at the first start
  // of an upgraded server would cost a full re-read of the folder; adopting keeps that cost away.
  const file = join(h.sdir, 'kept.txt');
  const { mtime } = (await import('node:fs')).statSync(file);
  writeFileSync(file, 'new bytes');
  utimesSync(file, mtime, mtime);
  const app = await buildApp({ sdir: h.sdir, limits: { verifyIntervalMs: 0 } });
  t.teardown(() => app.close());
  const row = new Database(join(h.sdir, '.deltabox', 'state.db'), { readonly: true });
  t.teardown(() => row.close());
  const kept = row.prepare('SELECT hash, stat_token FROM entries WHERE path = ?').get('kept.txt') as { hash: string; stat_token: string | null };
  t.equal(kept.hash, hash, 'not re-hashed');
  t.type(kept.stat_token, 'string', 'the identity was recorded');
});
