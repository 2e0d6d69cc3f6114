import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PathLock } from '../src/path-lock.js';
import { DirSyncer } from '../src/storage/dir-sync.js';
import { syncDir } from '../src/storage/safe-path.js';

/** A promise with its resolver, to hold a lock open until the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

t.test('writes to one path run one at a time, in arrival order', async (t) => {
  const lock = new PathLock();
  const order: string[] = [];
  const first = gate();
  const a = lock.with(['p'], async () => {
    order.push('a start');
    await first.promise;
    order.push('a end');
  });
  const b = lock.with(['p'], async () => void order.push('b'));
  await new Promise((r) => setImmediate(r));
  t.same(order, ['a start'], 'b waits while a holds the path');
  first.open();
  await Promise.all([a, b]);
  t.same(order, ['a start', 'a end', 'b']);
  t.equal(lock.size, 0, 'no lock is left behind');
});

t.test('different paths proceed in parallel', async (t) => {
  const lock = new PathLock();
  const held = gate();
  const a = lock.with(['x'], () => held.promise);
  let ranB = false;
  const b = lock.with(['y'], async () => void (ranB = true));
  // A free path runs within the current turn's microtasks; were y queued behind x, it would not have run
  // by the next macrotask (and awaiting it here would hang until the test timeout).
  await new Promise((r) => setImmediate(r));
  t.ok(ranB, 'y ran while x was still held');
  held.open();
  await Promise.all([a, b]);
});

t.test('multi-path holders take their locks in sorted order and cannot deadlock', async (t) => {
  const lock = new PathLock();
  const runs = Array.from({ length: 20 }, (_, i) => lock.with(i % 2 ? ['a', 'b'] : ['b', 'a'], async () => i));
  t.same(await Promise.all(runs), Array.from({ length: 20 }, (_, i) => i));
  t.equal(lock.size, 0);
});

t.test('requests made while a folder sync runs share one follow-up sync, started after it', async (t) => {
  const started: string[] = [];
  const running = gate();
  const syncer = new DirSyncer(async () => {
    started.push(`sync ${started.length + 1}`);
    if (started.length === 1) await running.promise;
  });
  const first = syncer.sync('/d');
  while (started.length === 0) await new Promise((r) => setImmediate(r));
  const late = Array.from({ length: 10 }, () => syncer.sync('/d'));
  await new Promise((r) => setImmediate(r));
  t.same(started, ['sync 1'], 'the late requests wait: the running sync may have begun before their renames');
  running.open();
  await Promise.all([first, ...late]);
  t.same(started, ['sync 1', 'sync 2'], 'one follow-up serves all ten');
});

t.test('a holder that throws releases the lock', async (t) => {
  const lock = new PathLock();
  await t.rejects(lock.with(['p'], async () => { throw new Error('boom'); }), /boom/);
  t.equal(await lock.with(['p'], async () => 'next'), 'next');
});

t.test('concurrent folder syncs share follow-up syncs and all resolve', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-dirsync-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let fsyncs = 0;
  const syncer = new DirSyncer(async (absDir) => {
    fsyncs++;
    await syncDir(absDir); // the real fsync, counted
  });
  await Promise.all(Array.from({ length: 50 }, () => syncer.sync(dir)));
  t.equal(fsyncs, 1, '50 requests in one turn of the event loop share one sync (a batch settles so)');
  await syncer.sync(dir);
  t.equal(fsyncs, 2, 'a request after they all ended gets its own sync');
  await t.rejects(syncer.sync(join(dir, 'missing')), { code: 'ENOENT' }, 'a failed sync is reported to its callers');
});

t.test('shared holders run together; an exclusive holder of the same key waits for them, and they for it', async (t) => {
  const lock = new PathLock();
  const order: string[] = [];
  let open!: () => void;
  const gate = { promise: new Promise<void>((r) => (open = r)), resolve: () => open() };
  const s1 = lock.with(['d/a'], async () => {
    order.push('s1 start');
    await gate.promise;
    order.push('s1 end');
  }, { shared: ['d'] });
  const s2 = lock.with(['d/b'], async () => void order.push('s2'), { shared: ['d'] });
  await s2;
  t.same(order, ['s1 start', 's2'], 'two writes below one folder proceed in parallel');
  const x = lock.with(['d'], async () => void order.push('rmdir d'));
  const s3 = lock.with(['d/c'], async () => void order.push('s3'), { shared: ['d'] });
  await new Promise((r) => setImmediate(r));
  t.same(order, ['s1 start', 's2'], 'the folder removal waits for the write below it, and a later write waits behind it');
  gate.resolve();
  await Promise.all([s1, x, s3]);
  t.same(order, ['s1 start', 's2', 's1 end', 'rmdir d', 's3']);
  t.equal(lock.size, 0);
});

t.test('ancestorsOf lists the folders above a path, outermost first', async (t) => {
  const { ancestorsOf } = await import('../src/path-lock.js');
  t.same(ancestorsOf('a/b/c'), ['a', 'a/b']);
  t.same(ancestorsOf('top'), []);
});
