import t, { type Test } from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChangesResponse } from '@deltabox/protocol';
import { sha256, startServer, type Harness } from './support/harness.js';

const json = { 'content-type': 'application/json' };
const move = (h: Harness, body: object, headers: Record<string, string> = {}) =>
  h.request('POST', '/v1/moves', { headers: { ...json, ...headers }, body: JSON.stringify(body) });

/** A folder `d0` with two files, then removed (as a third device's folder delete would). */
async function deletedFolder(t: Test, h: Harness): Promise<{ hashA: string; hashB: string }> {
  await h.request('PUT', '/v1/files/d0/a.txt', { body: 'alpha', headers: { 'x-deltabox-mtime-ms': '1500000000000' } });
  await h.request('PUT', '/v1/files/d0/b.txt', { body: 'beta' });
  t.equal((await h.request('DELETE', '/v1/dirs/d0?recursive=1')).status, 204);
  return { hashA: await sha256('alpha'), hashB: await sha256('beta') };
}

t.test('a revive brings a deleted file back at the mover\'s path once; a second mover is told where it went', async (t) => {
  const h = await startServer(t);
  const { hashA } = await deletedFolder(t, h);
  const since = Number((await h.request('GET', '/v1/changes')).json().revision);

  const first = await move(h, { from: 'd0/a.txt', to: 'moved-f/a.txt', ifMatch: hashA, revive: true });
  t.equal(first.status, 200);
  t.match(first.json(), { path: 'moved-f/a.txt', hash: hashA, size: 5, mtimeMs: 1500000000000 });
  t.equal(readFileSync(join(h.sdir, 'moved-f', 'a.txt'), 'utf8'), 'alpha');
  t.notOk(existsSync(join(h.sdir, 'd0')), 'the deleted folder stays deleted');
  const changes = (await h.request('GET', `/v1/changes?since=${since}`)).json<ChangesResponse>().changes;
  t.same(changes.map((c) => [c.op, c.path]), [['mkdir', 'moved-f'], ['put', 'moved-f/a.txt']], 'journaled as new content: every device can apply it');
  t.equal(Number(first.headers['x-deltabox-revision']), changes[1]!.revision);

  const second = await move(h, { from: 'd0/a.txt', to: 'moved-j/a.txt', ifMatch: hashA, revive: true });
  t.equal(second.status, 409);
  t.match(second.json(), { code: 'MOVED_ELSEWHERE', current: { path: 'moved-f/a.txt', hash: hashA } });
  t.notOk(existsSync(join(h.sdir, 'moved-j')), 'nothing written for the second mover');

  const retry = await move(h, { from: 'd0/a.txt', to: 'moved-f/a.txt', ifMatch: hashA, revive: true });
  t.equal(retry.status, 200, 'the first mover\'s retry after a lost answer succeeds');
  t.equal(retry.json().revision, first.json().revision, 'and writes nothing new');

  // The revived file keeps its history: the version from before the delete is listed at its new path.
  const history = (await h.request('GET', '/v1/history/moved-f/a.txt')).json<{ versions: Array<{ hash: string; deleted: boolean }> }>();
  t.ok(history.versions.some((v) => v.hash === hashA && v.deleted), 'the deleted version is in the history of the revived file');
});

t.test('a folder comes back once, whole: a second mover\'s other files follow the first mover\'s folder', async (t) => {
  // Two devices moved the deleted d0 (to x and to y) and send their revives file by file, interleaved: the files
  // the second mover revives first must not start a second copy of the folder at y (two-way-folder-moved-twice).
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/d0/sub/c.txt', { body: 'gamma' });
  const { hashA, hashB } = await deletedFolder(t, h);
  const hashC = await sha256('gamma');
  t.equal((await move(h, { from: 'd0/a.txt', to: 'x/a.txt', ifMatch: hashA, revive: true })).status, 200);
  const c = await move(h, { from: 'd0/sub/c.txt', to: 'y/sub/c.txt', ifMatch: hashC, revive: true });
  t.equal(c.status, 409);
  t.match(c.json(), { code: 'MOVED_ELSEWHERE', current: { path: 'x/sub/c.txt', hash: hashC } }, 'brought back in the first mover\'s folder');
  t.equal(readFileSync(join(h.sdir, 'x', 'sub', 'c.txt'), 'utf8'), 'gamma');
  t.notOk(existsSync(join(h.sdir, 'y')), 'nothing at the second mover\'s folder');
  const retry = await move(h, { from: 'd0/sub/c.txt', to: 'y/sub/c.txt', ifMatch: hashC, revive: true });
  t.match(retry.json(), { code: 'MOVED_ELSEWHERE', current: { path: 'x/sub/c.txt' } }, 'its retry hears the same');
  const b = await move(h, { from: 'd0/b.txt', to: 'x/b.txt', ifMatch: hashB, revive: true });
  t.equal(b.status, 200, 'the first mover goes on as planned');
  const paths = (await h.request('GET', '/v1/files')).body.toString().trim().split('\n').map((l) => JSON.parse(l).path as string);
  t.same(paths.sort(), ['x', 'x/a.txt', 'x/b.txt', 'x/sub', 'x/sub/c.txt'], 'the folder once, at x');
});

t.test('once brought back and moved on, a later mover is pointed at where the file is now', async (t) => {
  const h = await startServer(t);
  const { hashB } = await deletedFolder(t, h);
  t.equal((await move(h, { from: 'd0/b.txt', to: 'x/b.txt', ifMatch: hashB, revive: true })).status, 200);
  t.equal((await move(h, { from: 'x/b.txt', to: 'y/b.txt', ifMatch: hashB })).status, 200);
  const late = await move(h, { from: 'd0/b.txt', to: 'z/b.txt', ifMatch: hashB, revive: true });
  t.match(late.json(), { code: 'MOVED_ELSEWHERE', current: { path: 'y/b.txt' } });
  // Deleted again: it may come back again.
  t.equal((await h.request('DELETE', '/v1/files/y/b.txt')).status, 204);
  t.equal((await move(h, { from: 'y/b.txt', to: 'z/b.txt', ifMatch: hashB, revive: true })).status, 200);
});

t.test('a revive refuses what it cannot arbitrate, and changes nothing', async (t) => {
  const h = await startServer(t);
  const { hashA, hashB } = await deletedFolder(t, h);
  const before = Number((await h.request('GET', '/v1/changes')).json().revision);
  t.equal((await move(h, { from: 'd0/a.txt', to: 'm/a.txt', revive: true })).json().code, 'BAD_REQUEST', 'no ifMatch');
  t.equal((await move(h, { from: 'd0/a.txt', to: 'm/a.txt', ifMatch: hashA, revive: 'yes' })).json().code, 'BAD_REQUEST');
  t.equal((await move(h, { from: 'd0/a.txt', to: 'm/a.txt', ifMatch: hashA, revive: true, overwrite: true })).json().code, 'BAD_REQUEST');
  t.equal((await move(h, { from: 'd0/a.txt', to: 'm/a.txt', ifMatch: hashB, revive: true })).json().code, 'NOT_FOUND', 'other content than was deleted');
  t.equal((await move(h, { from: 'never/there', to: 'm/a.txt', ifMatch: hashA, revive: true })).json().code, 'NOT_FOUND');
  await h.request('PUT', '/v1/files/m/a.txt', { body: 'someone else' });
  const taken = await move(h, { from: 'd0/a.txt', to: 'm/a.txt', ifMatch: hashA, revive: true });
  t.equal(taken.status, 412, 'the target holds other content (create only)');
  t.equal(taken.json().code, 'BASE_MISMATCH');
  await h.request('PUT', '/v1/files/d0/b.txt', { body: 'beta again' });
  const back = await move(h, { from: 'd0/b.txt', to: 'n/b.txt', ifMatch: hashB, revive: true });
  t.match(back.json(), { code: 'BASE_MISMATCH', current: { path: 'd0/b.txt' } }, 'the source is there again');
  const after = (await h.request('GET', `/v1/changes?since=${before}`)).json<ChangesResponse>().changes;
  t.same(after.map((c) => [c.op, c.path]), [['mkdir', 'm'], ['put', 'm/a.txt'], ['mkdir', 'd0'], ['put', 'd0/b.txt']], 'only the two plain writes were recorded');
  t.notOk(existsSync(join(h.sdir, 'n')));
});

t.test('two devices reviving the same file at once: exactly one wins', async (t) => {
  const h = await startServer(t);
  const { hashA } = await deletedFolder(t, h);
  const answers = await Promise.all(['p', 'q', 'r', 's'].map((dir) => move(h, { from: 'd0/a.txt', to: `${dir}/a.txt`, ifMatch: hashA, revive: true })));
  const won = answers.filter((a) => a.status === 200);
  t.equal(won.length, 1);
  const at = won[0]!.json().path as string;
  for (const a of answers.filter((x) => x.status !== 200)) t.match(a.json(), { code: 'MOVED_ELSEWHERE', current: { path: at } });
  const manifest = (await h.request('GET', '/v1/files')).body.toString().trim().split('\n').map((l) => JSON.parse(l));
  t.same(manifest.filter((e) => e.type === 'file').map((e) => e.path), [at]);
});
