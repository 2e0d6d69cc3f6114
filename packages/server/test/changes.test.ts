import t from 'tap';
import type { ChangesResponse } from '@deltabox/protocol';
import { startServer } from './support/harness.js';

t.test('every change gets a higher revision and since returns only newer ones', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/a', { body: '1' });
  await h.request('PUT', '/v1/files/a', { body: '2' });
  await h.request('DELETE', '/v1/files/a');
  const all = (await h.request('GET', '/v1/changes?since=0')).json<ChangesResponse>();
  t.same(all.changes.map((c) => [c.revision, c.op]), [[1, 'put'], [2, 'put'], [3, 'delete']]);
  t.equal(all.revision, 3);
  const newer = (await h.request('GET', '/v1/changes?since=2')).json<ChangesResponse>();
  t.same(newer.changes.map((c) => c.revision), [3]);
  const paged = (await h.request('GET', '/v1/changes?since=0&limit=2')).json<ChangesResponse>();
  t.same(paged.changes.map((c) => c.revision), [1, 2]);
  t.equal(paged.revision, 2, 'a page ends at its last record, so the next since continues from there');
  t.equal((await h.request('GET', '/v1/health')).json().revision, 3);
  t.equal((await h.request('GET', '/v1/changes?since=-1')).json().code, 'BAD_REQUEST');
  t.equal((await h.request('GET', '/v1/changes?waitMs=soon')).json().code, 'BAD_REQUEST');
});

t.test('a long-poll returns as soon as a change lands', async (t) => {
  const h = await startServer(t);
  const started = Date.now();
  const poll = h.request('GET', '/v1/changes?since=0&waitMs=30000');
  // Write only once the poll is waiting: poll the server's open connections instead of sleeping.
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 5000;
    const check = (): void => {
      h.app.server.getConnections((err, n) => {
        if (err) return reject(err);
        if (n >= 1) return resolve();
        if (Date.now() > deadline) return reject(new Error('the long-poll never connected'));
        setTimeout(check, 5);
      });
    };
    check();
  });
  await h.request('PUT', '/v1/files/wake', { body: 'up' });
  const res = (await poll).json<ChangesResponse>();
  t.match(res.changes, [{ op: 'put', path: 'wake' }]);
  t.ok(Date.now() - started < 25_000, 'returned long before waitMs');
});

t.test('a long-poll with nothing new returns empty after its wait, capped by the server', async (t) => {
  const h = await startServer(t, { limits: { changesMaxWaitMs: 200 } });
  const started = Date.now();
  const res = (await h.request('GET', '/v1/changes?since=0&waitMs=600000')).json<ChangesResponse>();
  const elapsed = Date.now() - started;
  t.same(res, { changes: [], revision: 0, floor: 0 });
  t.ok(elapsed >= 150 && elapsed < 5000, `waited about the cap (${elapsed} ms)`);
});

t.test('closing the server ends pending long-polls at once', async (t) => {
  const h = await startServer(t);
  const poll = h.request('GET', '/v1/changes?since=0&waitMs=60000');
  const deadline = Date.now() + 5000;
  while ((await new Promise<number>((r) => h.app.server.getConnections((_e, n) => r(n)))) < 1) {
    if (Date.now() > deadline) throw new Error('the long-poll never connected');
    await new Promise((r) => setImmediate(r));
  }
  const started = Date.now();
  await h.app.close();
  const res = await poll;
  t.equal(res.status, 200);
  t.ok(Date.now() - started < 5000, 'close did not wait for the 60 s poll');
});

t.test('writes racing into one new folder: the journal makes every folder before anything inside it', async (t) => {
  const h = await startServer(t);
  // Both writes make r/x (mkdir -p, by whichever gets there first); the other could record first, and its put
  // then came before the mkdir of its own folder (shared-load seed 1204: devices dropped that file).
  const rounds = 40;
  for (let i = 0; i < rounds; i++) {
    await Promise.all([
      h.request('PUT', `/v1/files/r${i}/x/a.txt`, { body: `a${i}` }),
      h.request('PUT', `/v1/files/r${i}/x/y/b.txt`, { body: `b${i}` }),
      h.request('PUT', `/v1/files/r${i}/x/y/z/c.txt`, { body: `c${i}` }),
    ]);
  }
  const { changes } = (await h.request('GET', '/v1/changes?since=0')).json<ChangesResponse>();
  const dirs = new Set<string>();
  const early: string[] = [];
  for (const c of changes) {
    const parts = c.path.split('/');
    for (let k = 1; k < parts.length; k++) if (!dirs.has(parts.slice(0, k).join('/'))) early.push(`${c.op} ${c.path} (revision ${c.revision}) before ${parts.slice(0, k).join('/')}`);
    if (c.op === 'mkdir') dirs.add(c.path);
  }
  t.same(early.slice(0, 5), [], 'no record names a path under a folder not made yet');
  t.equal(changes.filter((c) => c.op === 'put').length, 3 * rounds);
  t.equal(changes.filter((c) => c.op === 'mkdir').length, 4 * rounds, 'each folder made once');
});
