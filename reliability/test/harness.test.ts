/** The harness checks itself: replayable randomness, the duplicate-upload count, the proxy's refusal count. */
import t from 'tap';
import { SeededRandom } from '../src/harness/seeded-random.js';
import { countUploads } from '../src/harness/server-api.js';
import { TcpProxy } from '../src/harness/tcp-proxy.js';
import { connect } from 'node:net';

t.test('the same seed gives the same draws', async (t) => {
  const a = new SeededRandom(42);
  const b = new SeededRandom(42);
  t.same([a.int(0, 1e6), a.next(), a.bytes(16).toString('hex')], [b.int(0, 1e6), b.next(), b.bytes(16).toString('hex')]);
  t.not(new SeededRandom(43).int(0, 1e9), new SeededRandom(42).int(0, 1e9));
});

t.test('a put of the content a path already holds counts as a duplicate upload, across moves and deletes', async (t) => {
  const rec = (revision: number, op: 'put' | 'delete' | 'move' | 'rmdir', path: string, hash?: string, from?: string) => ({
    revision,
    op,
    path,
    timeMs: 0,
    ...(hash ? { hash } : {}),
    ...(from ? { from } : {}),
  });
  const counts = countUploads([
    rec(1, 'put', 'a', 'h1'),
    rec(2, 'put', 'a', 'h2'),
    rec(3, 'put', 'a', 'h2'), // duplicate
    rec(4, 'move', 'd/a', undefined, 'a'),
    rec(5, 'put', 'd/a', 'h2'), // duplicate after the move
    rec(6, 'rmdir', 'd'),
    rec(7, 'put', 'd/a', 'h2'), // not a duplicate: the folder was removed
  ]);
  t.equal(counts.puts, 5);
  t.same(
    counts.duplicatePuts.map((d) => d.revision),
    [3, 5],
  );
});

t.test('the proxy counts and resets connections while refusing', async (t) => {
  const proxy = new TcpProxy(1);
  await proxy.start();
  t.teardown(() => proxy.close());
  proxy.refuse();
  const outcome = await new Promise<string>((resolve) => {
    const s = connect(proxy.port, '127.0.0.1');
    s.on('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? 'error'));
    s.on('close', () => resolve('closed'));
  });
  t.match(outcome, /ECONNRESET|closed/);
  t.equal(proxy.connections, 1);
  t.equal(proxy.refused, 1);
});
