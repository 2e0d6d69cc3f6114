/**
 * Moves carry history (issue 13): after a file or folder move, the history of the new path lists the
 * versions the file had under its old path, and a restore by the id of a pre-move version works at the new
 * path. Real server on 127.0.0.1, real files, real SQLite.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryResponse } from '@deltabox/protocol';
import { startServer, type Harness } from './support/harness.js';

const sha = (b: string): string => createHash('sha256').update(b).digest('hex');

async function put(h: Harness, path: string, body: string): Promise<void> {
  const res = await h.request('PUT', `/v1/files/${path}`, { body });
  if (res.status !== 200) throw new Error(`PUT ${path}: ${res.status} ${res.body.toString()}`);
}

async function move(h: Harness, from: string, to: string): Promise<void> {
  const res = await h.request('POST', '/v1/moves', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from, to }) });
  if (res.status !== 200) throw new Error(`move ${from} -> ${to}: ${res.status} ${res.body.toString()}`);
}

async function history(h: Harness, path: string): Promise<HistoryResponse> {
  const res = await h.request('GET', `/v1/history/${path}`);
  if (res.status !== 200) throw new Error(`history ${path}: ${res.status} ${res.body.toString()}`);
  return res.json<HistoryResponse>();
}

async function restore(h: Harness, body: object): Promise<{ status: number; code?: string }> {
  const res = await h.request('POST', '/v1/restore', { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, code: res.status === 200 ? undefined : res.json<{ code: string }>().code };
}

const pathsAndHashes = (r: HistoryResponse): string[][] => r.versions.map((v) => [v.path, v.hash]);

t.test('a moved file keeps its history: history NEWPATH lists the old-path versions, restore by their id works there', async (t) => {
  const h = await startServer(t);
  for (const v of ['v1', 'v2', 'v3']) await put(h, 'a.txt', v);
  await move(h, 'a.txt', 'docs/b.txt');
  await put(h, 'docs/b.txt', 'v4');
  const after = await history(h, 'docs/b.txt');
  t.equal(after.current?.hash, sha('v4'));
  t.same(pathsAndHashes(after), [['docs/b.txt', sha('v3')], ['a.txt', sha('v2')], ['a.txt', sha('v1')]], 'the versions from before the move, newest first, each with the path it had');
  const v1 = after.versions.find((v) => v.hash === sha('v1'))!;
  t.same(await restore(h, { path: 'docs/b.txt', versionId: v1.id }), { status: 200, code: undefined });
  t.equal(readFileSync(join(h.sdir, 'docs/b.txt'), 'utf8'), 'v1', 'the pre-move version is back at the new path');
  t.same(pathsAndHashes(await history(h, 'a.txt')), [['a.txt', sha('v2')], ['a.txt', sha('v1')]], 'the old path keeps its versions too');
});

t.test('a folder move carries the history of every file under it, and a file moved and then deleted keeps it in the trash', async (t) => {
  const h = await startServer(t);
  await put(h, 'proj/src/x.txt', 'x1');
  await put(h, 'proj/src/x.txt', 'x2');
  await put(h, 'proj/y.txt', 'y1');
  await put(h, 'proj/y.txt', 'y2');
  await move(h, 'proj', 'archive/proj');
  t.same(pathsAndHashes(await history(h, 'archive/proj/src/x.txt')), [['proj/src/x.txt', sha('x1')]]);
  t.same(pathsAndHashes(await history(h, 'archive/proj/y.txt')), [['proj/y.txt', sha('y1')]]);
  const del = await h.request('DELETE', '/v1/files/archive/proj/y.txt');
  t.equal(del.status, 204);
  const gone = await history(h, 'archive/proj/y.txt');
  t.equal(gone.current, undefined);
  t.same(pathsAndHashes(gone), [['archive/proj/y.txt', sha('y2')], ['proj/y.txt', sha('y1')]], 'a deleted path still shows where its file came from');
  const y1 = gone.versions[1]!;
  t.same(await restore(h, { path: 'archive/proj/y.txt', versionId: y1.id }), { status: 200, code: undefined });
  t.equal(readFileSync(join(h.sdir, 'archive/proj/y.txt'), 'utf8'), 'y1');
});

t.test('history does not leak between files: a new file at the old path, and a version id of another file', async (t) => {
  const h = await startServer(t);
  await put(h, 'old.txt', 'first file 1');
  await put(h, 'old.txt', 'first file 2');
  await move(h, 'old.txt', 'new.txt');
  await put(h, 'old.txt', 'second file 1');
  await put(h, 'old.txt', 'second file 2');
  await put(h, 'other.txt', 'other 1');
  await put(h, 'other.txt', 'other 2');
  t.same(pathsAndHashes(await history(h, 'new.txt')), [['old.txt', sha('first file 1')]], 'the new file at old.txt is not in new.txt\'s history');
  t.same(pathsAndHashes(await history(h, 'old.txt')), [['old.txt', sha('second file 1')], ['old.txt', sha('first file 1')]], 'old.txt lists what was at it');
  const foreign = (await history(h, 'other.txt')).versions[0]!;
  t.same(await restore(h, { path: 'new.txt', versionId: foreign.id }), { status: 404, code: 'VERSION_NOT_FOUND' }, 'another file\'s version is refused');
});
