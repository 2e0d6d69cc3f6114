import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasisCache } from '../src/transfer/basis-cache.js';
import { StateStore } from '../src/state/state-store.js';

t.test('the cache stays within its budget, evicting least recently used, and drops unreferenced versions', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new StateStore(join(dir, 'state'));
  let clock = 0;
  const cache = new BasisCache(join(dir, 'cache'), store, 250, () => ++clock);
  const put = (hash: string, bytes: number) => {
    const f = join(dir, `snap-${hash}`);
    writeFileSync(f, Buffer.alloc(bytes));
    cache.adoptCopy(hash, f, bytes);
  };
  put('a', 100);
  put('b', 100);
  t.equal(cache.lookup('a')?.kind, 'copy', 'a used: b is now least recent');
  put('c', 100);
  t.equal(cache.totalBytes, 200);
  t.equal(cache.lookup('b'), undefined, 'b evicted');
  t.ok(cache.lookup('a') && cache.lookup('c'));
  cache.putSignature('d', new Uint8Array(10));
  t.equal(cache.lookup('d')?.kind, 'signature');
  put('huge', 1000);
  t.equal(cache.lookup('huge'), undefined, 'larger than the budget: not kept');
  t.notOk(existsSync(join(dir, 'snap-huge')), 'and its snapshot removed');

  const reopened = new BasisCache(join(dir, 'cache'), store, 250);
  t.equal(reopened.totalBytes, 210, 'the index survives a restart');
  reopened.retainOnly(new Set(['a']));
  t.equal(reopened.totalBytes, 100);
  t.equal(reopened.lookup('c'), undefined);
  store.close();
});

t.test('at start, rows whose cache file is gone are dropped; the others are kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new StateStore(join(dir, 'state'));
  const cacheDir = join(dir, 'cache');
  const cache = new BasisCache(cacheDir, store, 10_000);
  cache.putCopy('a', new Uint8Array(100));
  cache.putCopy('b', new Uint8Array(200));
  cache.putSignature('a', new Uint8Array(10));
  cache.putSignature('c', new Uint8Array(20));
  t.equal(cache.totalBytes, 330);
  rmSync(join(cacheDir, 'b')); // a copy and a signature removed behind the scanner's back
  rmSync(join(cacheDir, 'a.sig'));
  const reopened = new BasisCache(cacheDir, store, 10_000);
  t.equal(reopened.totalBytes, 120, 'only the copy of a and the signature of c are counted');
  t.same([...store.loadCache()].map((r) => `${r.kind}:${r.hash}`).sort(), ['copy:a', 'signature:c'], 'the rows of missing files are deleted');
  t.equal(reopened.lookup('a')?.kind, 'copy');
  t.equal(reopened.lookup('b'), undefined);
  t.equal(reopened.lookup('c')?.kind, 'signature');
  store.close();
});

t.test('small-file signatures live in the state database and go with the versions that hold them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new StateStore(join(dir, 'state'));
  const cache = new BasisCache(join(dir, 'cache'), store, 1_000);
  cache.putSmallSignature('kept', new Uint8Array([1, 2, 3]));
  cache.putSmallSignature('gone', new Uint8Array([4, 5]));
  t.same([...cache.smallSignature('kept')!], [1, 2, 3]);
  t.equal(cache.totalBytes, 0, 'outside the budget and the cache folder');
  cache.retainOnly(new Set(['kept']));
  t.equal(cache.smallSignature('gone'), undefined, 'an unreferenced version dropped');
  store.close();
  const reopened = new StateStore(join(dir, 'state'));
  t.same([...new BasisCache(join(dir, 'cache'), reopened, 1_000).smallSignature('kept')!], [1, 2, 3], 'kept across restarts');
  reopened.close();
});
