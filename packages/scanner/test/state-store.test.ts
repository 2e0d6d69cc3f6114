/** StateStore's loads of the local, remote and base tables, with a real SQLite file in a temp folder. */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore, type RemoteEntry } from '../src/state/state-store.js';
import type { LocalEntry } from '../src/detect/change-detector.js';

/** A state store in a temp folder, closed and removed after the test; `reopen` opens the same file again. */
function openStore(t: Test): { store: StateStore; reopen(): StateStore } {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-state-store-'));
  const opened: StateStore[] = [];
  const open = () => {
    const store = new StateStore(join(dir, 'state'));
    opened.push(store);
    return store;
  };
  t.teardown(() => {
    for (const store of opened) store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store: open(), reopen: open };
}

const remote = (path: string, fields: Partial<RemoteEntry> = {}): RemoteEntry => ({
  path, type: 'file', size: 3, mtimeMs: 1_700_000_000_123, executable: false, hash: `h-${path}`, ...fields,
});

t.test('local rows load back as written: folders, unread files, racy rows and disk names that are not the path', async (t) => {
  const { store, reopen } = openStore(t);
  const rows: LocalEntry[] = [
    { path: 'a', diskPath: 'a', type: 'dir', size: 0, mtimeMs: 1_700_000_000_000.5, ino: 11, mode: 0o755, racy: false },
    { path: 'a/\u00e9.txt', diskPath: 'a/e\u0301.txt', type: 'file', size: 7, mtimeMs: 1_700_000_000_123.25, ino: 12, mode: 0o644, hash: 'f'.repeat(64), racy: true },
    { path: 'new.bin', diskPath: 'new.bin', type: 'file', size: 2 ** 40, mtimeMs: 5, ino: 2 ** 40 + 3, mode: 0o755, racy: false },
  ];
  store.transaction(() => rows.forEach((row) => store.upsertLocal(row)));
  const loaded = reopen().loadLocal();
  t.same([...loaded.keys()].sort(), rows.map((r) => r.path).sort());
  for (const row of rows) t.strictSame(loaded.get(row.path), row, row.path);
  t.notOk('hash' in loaded.get('new.bin')!, 'a file never read has no hash property, not an undefined one');
});

t.test('remote and base rows load back as written, executable bits and folders included', async (t) => {
  const { store, reopen } = openStore(t);
  const rows = [remote('d', { type: 'dir', size: 0, mtimeMs: 0, executable: false, hash: undefined }), remote('d/run.sh', { executable: true }), remote('x')];
  for (const row of rows) if (row.hash === undefined) delete row.hash;
  store.transaction(() => rows.forEach((row) => { store.upsertRemote(row); store.upsertBase(row); }));
  const again = reopen();
  for (const loaded of [again.loadRemote(), again.loadBase()]) {
    for (const row of rows) t.strictSame(loaded.get(row.path), row, row.path);
  }
});

t.test('a base row equal to the remote row is loaded as that same entry; one that differs in any field is its own', async (t) => {
  const { store, reopen } = openStore(t);
  const same = remote('same');
  const differing: Array<[RemoteEntry, RemoteEntry]> = [
    [remote('hash'), remote('hash', { hash: 'other' })],
    [remote('size'), remote('size', { size: 4 })],
    [remote('mtime'), remote('mtime', { mtimeMs: 1_700_000_000_124 })],
    [remote('exec'), remote('exec', { executable: true })],
  ];
  const folderRemote = remote('kind', { type: 'dir', size: 0 });
  delete folderRemote.hash;
  const folderBase = remote('kind', { size: 0 });
  delete folderBase.hash;
  differing.push([folderRemote, folderBase]);
  store.transaction(() => {
    store.upsertRemote(same);
    store.upsertBase(same);
    for (const [r, b] of differing) {
      store.upsertRemote(r);
      store.upsertBase(b);
    }
    store.upsertBase(remote('base-only'));
  });
  const again = reopen();
  const remoteView = again.loadRemote();
  const base = again.loadBase(remoteView);
  t.equal(base.get('same'), remoteView.get('same'), 'one object for both views');
  for (const [r, b] of differing) {
    t.not(base.get(r.path), remoteView.get(r.path), `${r.path}: its own entry`);
    t.strictSame(base.get(r.path), b, `${r.path}: the base's values`);
  }
  t.strictSame(base.get('base-only'), remote('base-only'));
  t.equal(base.size, differing.length + 2);
});

t.test('hasLocalRows answers whether there are at least that many local rows', async (t) => {
  const { store } = openStore(t);
  t.same([store.hasLocalRows(0), store.hasLocalRows(1)], [true, false], 'empty');
  store.transaction(() => {
    for (const path of ['a', 'b', 'c']) store.upsertLocal({ path, diskPath: path, type: 'file', size: 1, mtimeMs: 1, ino: 1, mode: 0o644, racy: false });
  });
  t.same([2, 3, 4].map((n) => store.hasLocalRows(n)), [true, true, false]);
});
