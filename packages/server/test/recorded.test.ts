import t from 'tap';
import { parseRevisionRanges, type ChangesResponse } from '@deltabox/protocol';
import { sha256, startServer } from './support/harness.js';

const json = { 'content-type': 'application/json' };

t.test('every write answers with the journal records it made (x-deltabox-recorded), and only those', async (t) => {
  const h = await startServer(t);
  const recorded = (res: { headers: Record<string, unknown> }) => parseRevisionRanges(String(res.headers['x-deltabox-recorded']));
  const put = await h.request('PUT', '/v1/files/a/b/c.txt', { body: 'one' });
  const changes = (await h.request('GET', '/v1/changes?since=0')).json<ChangesResponse>().changes;
  t.same(changes.map((c) => [c.op, c.path]), [['mkdir', 'a'], ['mkdir', 'a/b'], ['put', 'a/b/c.txt']]);
  t.same(recorded(put), changes.map((c) => c.revision), 'the put and the two folders it made');
  t.equal(put.headers['x-deltabox-recorded'], `${changes[0]!.revision}-${changes[2]!.revision}`, 'as one range');

  const again = await h.request('PUT', '/v1/files/a/b/c.txt', { body: 'one' });
  t.equal(again.status, 200);
  t.equal(Number(again.headers['x-deltabox-revision']), changes[2]!.revision, 'the same content again is answered with the record that made it');
  t.equal(again.headers['x-deltabox-recorded'], 'none', 'but this request recorded nothing');

  const dir = await h.request('PUT', '/v1/dirs/a');
  t.equal(dir.headers['x-deltabox-recorded'], 'none', 'a folder that was there');
  const moved = await h.request('POST', '/v1/moves', { headers: json, body: JSON.stringify({ from: 'a/b/c.txt', to: 'z.txt', ifMatch: await sha256('one') }) });
  t.same(recorded(moved), [Number(moved.headers['x-deltabox-revision'])]);
  const refused = await h.request('POST', '/v1/moves', { headers: json, body: JSON.stringify({ from: 'nothing', to: 'y.txt' }) });
  t.equal(refused.status, 404);
  t.equal(refused.headers['x-deltabox-recorded'], 'none', 'a refused write recorded nothing');
  const del = await h.request('DELETE', '/v1/files/z.txt');
  t.same(recorded(del), [Number(del.headers['x-deltabox-revision'])]);
  t.equal((await h.request('GET', '/v1/changes?since=0')).headers['x-deltabox-recorded'], undefined, 'reads say nothing');
});
