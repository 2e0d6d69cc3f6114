/**
 * Journal retention (issue 12 item 5): records older than journalRetentionMs are pruned online, always the
 * oldest first; GET /v1/changes answers the floor, and `expired` with no changes to a `since` below it.
 * A fake clock drives journal times and the pruner.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChangesResponse } from '@deltabox/protocol';
import type { Mirror } from '../src/mirror.js';
import type { Pruner } from '../src/history/pruner.js';
import { buildApp, createToken } from '../src/index.js';
import { openStateDb } from '../src/state/database.js';
import { startServer, type Harness } from './support/harness.js';

const DAY_MS = 86_400_000;

async function rig(t: Parameters<typeof startServer>[0]): Promise<{ h: Harness; clock: { now: number }; mirror: Mirror; pruner: Pruner }> {
  let parts: { mirror: Mirror; pruner: Pruner } | undefined;
  const clock = { now: Date.UTC(2026, 0, 1) };
  const h = await startServer(t, {
    limits: { journalRetentionMs: 10 * DAY_MS },
    overrides: { clock: () => clock.now, inspect: (p) => (parts = p) },
  });
  parts!.pruner.stop(); // prunes run by hand, at the fake clock
  return { h, clock, mirror: parts!.mirror, pruner: parts!.pruner };
}

async function changes(h: Harness, since: number): Promise<ChangesResponse> {
  return (await h.request('GET', `/v1/changes?since=${since}`)).json<ChangesResponse>();
}

t.test('records past the retention are pruned, the floor rises and an older since is told it expired', async (t) => {
  const { h, clock, pruner } = await rig(t);
  await h.request('PUT', '/v1/files/old/a.txt', { body: 'a' }); // mkdir old (1), put (2)
  await h.request('DELETE', '/v1/files/old/a.txt'); // delete (3)
  clock.now += 5 * DAY_MS;
  await h.request('PUT', '/v1/files/new.txt', { body: 'n' }); // put (4)
  t.same((await changes(h, 0)).floor, 0, 'nothing pruned yet: floor 0');

  await pruner.run();
  t.equal((await changes(h, 0)).changes.length, 4, 'within the retention every record stays');

  clock.now += 6 * DAY_MS; // the first three are 11 days old, the fourth 6
  await pruner.run();
  const expired = await changes(h, 0);
  t.same(expired, { changes: [], revision: 4, floor: 3, expired: true }, 'since 0 is below the floor: expired, no changes');
  t.same((await changes(h, 2)).expired, true, 'so is any since below the floor');
  const atFloor = await changes(h, 3);
  t.same(atFloor, { changes: atFloor.changes, revision: 4, floor: 3 }, 'since = floor is answerable, without expired');
  t.match(atFloor.changes, [{ revision: 4, op: 'put', path: 'new.txt' }]);

  await h.request('PUT', '/v1/files/later.txt', { body: 'l' });
  t.match((await changes(h, 3)).changes.map((c) => c.revision), [4, 5], 'new records follow on');
  const waited = await h.request('GET', '/v1/changes?since=1&waitMs=60000');
  t.equal(waited.json<ChangesResponse>().expired, true, 'an expired since does not wait');
});

t.test('only the oldest records go: one newer by a clock that stepped back holds every record after it', async (t) => {
  const { h, clock, mirror } = await rig(t);
  await h.request('PUT', '/v1/files/a', { body: '1' }); // 1, at T
  clock.now += 20 * DAY_MS;
  await h.request('PUT', '/v1/files/b', { body: '2' }); // 2, at T + 20 d
  clock.now -= 19 * DAY_MS;
  await h.request('PUT', '/v1/files/c', { body: '3' }); // 3, at T + 1 d (the clock stepped back)
  clock.now += 25 * DAY_MS; // now T + 26 d: records 1 and 3 are past 10 days, 2 is 6 days old
  t.equal(mirror.journal.prune(clock.now - 10 * DAY_MS, 1000), 1, 'record 1 goes; record 3 waits behind record 2');
  const res = await changes(h, 1);
  t.same(res.changes.map((c) => c.revision), [2, 3]);
  t.equal(res.floor, 1);
});

t.test('a prune is bounded per run and continues where it stopped', async (t) => {
  const { h, clock, mirror } = await rig(t);
  for (let i = 0; i < 5; i++) await h.request('PUT', `/v1/files/f${i}`, { body: String(i) });
  clock.now += 11 * DAY_MS;
  t.equal(mirror.journal.prune(clock.now - 10 * DAY_MS, 2), 2);
  t.equal(mirror.journal.floor(), 2);
  t.equal(mirror.journal.prune(clock.now - 10 * DAY_MS, 2), 2);
  t.equal(mirror.journal.prune(clock.now - 10 * DAY_MS, 2), 1);
  t.equal(mirror.journal.prune(clock.now - 10 * DAY_MS, 2), 0, 'nothing left to prune');
  t.same(await changes(h, 5), { changes: [], revision: 5, floor: 5 }, 'an empty journal still answers its latest revision');
  await h.request('PUT', '/v1/files/g', { body: 'g' });
  t.equal((await changes(h, 5)).changes[0]!.revision, 6, 'revisions are never reused after a prune');
});

t.test('a state folder from before journal retention keeps its records, with floor 0', async (t) => {
  const sdir = mkdtempSync(join(tmpdir(), 'dbx-old-journal-'));
  t.teardown(() => rmSync(sdir, { recursive: true, force: true }));
  const db = openStateDb(sdir); // the numbered migrations only: no floor table, no journal indexes yet
  db.prepare('INSERT INTO changes (op, path, time_ms) VALUES (?, ?, ?)').run('mkdir', 'old', Date.now());
  t.notOk(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'journal_floor'").get(), 'an older state has no floor');
  db.close();
  const token = createToken(sdir, { name: 'device' });
  const app = await buildApp({ sdir });
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'GET', url: '/v1/changes?since=0', headers: { authorization: `Bearer ${token}` } });
  t.match(res.json(), { changes: [{ revision: 1, op: 'mkdir', path: 'old' }], revision: 1, floor: 0 });
  t.notOk('expired' in res.json());
});
