/**
 * The Storage conformance suite: every backend runs it with a factory (see local-storage.test.ts).
 * It checks the contract written in src/storage/storage.ts, one behaviour per test.
 */
import type { Test } from 'tap';
import { createHash } from 'node:crypto';
import type { Storage, StorageEntry } from '../../src/index.js';

export interface ConformanceSubject {
  storage: Storage;
  /** Plants a symlink at `path` pointing outside the root (backends without symlinks omit it). */
  plantSymlink?: (path: string) => void;
  cleanup: () => Promise<void> | void;
}

async function put(storage: Storage, path: string, content: string, meta: { mtimeMs?: number; executable?: boolean } = {}): Promise<{ entry: StorageEntry; createdDirs: StorageEntry[] }> {
  const staged = await storage.stage();
  await staged.write(Buffer.from(content));
  return staged.commit(path, { executable: meta.executable ?? false, ...(meta.mtimeMs === undefined ? {} : { mtimeMs: meta.mtimeMs }) });
}

async function readAll(storage: Storage, path: string): Promise<string> {
  const handle = await storage.open(path);
  const chunks: Buffer[] = [];
  for await (const c of handle.stream()) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

async function walkPaths(storage: Storage): Promise<string[]> {
  const out: string[] = [];
  for await (const e of storage.walk()) out.push(`${e.type}:${e.path}`);
  return out;
}

async function rejectsWith(t: Test, promise: Promise<unknown>, code: string, what: string): Promise<void> {
  await t.rejects(promise, { code }, what);
}

export function storageConformance(t: Test, name: string, make: () => Promise<ConformanceSubject>, features: { symlinks: boolean }): void {
  const withSubject = (title: string, fn: (t: Test, s: ConformanceSubject) => Promise<void>, skip: string | false = false): void => {
    t.test(`${name}: ${title}`, { skip }, async (t) => {
      const subject = await make();
      t.teardown(() => subject.cleanup());
      await fn(t, subject);
    });
  };

  withSubject('stat of a missing path or below a missing folder is undefined', async (t, { storage }) => {
    t.equal(await storage.stat('nope'), undefined);
    t.equal(await storage.stat('no/such/thing'), undefined);
  });

  withSubject('a committed file is visible with its size, mode, mtime and hash, and its new parents are reported', async (t, { storage }) => {
    const staged = await storage.stage();
    await staged.write(Buffer.from('hello '));
    await staged.write(Buffer.from('world'));
    t.equal(staged.size, 11);
    t.equal(staged.digest(), createHash('sha256').update('hello world').digest('hex'));
    t.same(await walkPaths(storage), [], 'staged bytes are invisible before commit');
    const { entry, createdDirs } = await staged.commit('a/b/c.txt', { executable: true, mtimeMs: 1_650_000_000_000 });
    t.match(entry, { path: 'a/b/c.txt', type: 'file', size: 11, executable: true, mtimeMs: 1_650_000_000_000 });
    t.same(createdDirs.map((d) => d.path), ['a', 'a/b'], 'outermost first');
    t.equal(await readAll(storage, 'a/b/c.txt'), 'hello world');
    t.match(await storage.stat('a/b/c.txt'), { size: 11, executable: true });
    await staged.discard(); // safe after commit
    t.equal(await readAll(storage, 'a/b/c.txt'), 'hello world');
  });

  withSubject('a discarded staged file leaves nothing behind', async (t, { storage }) => {
    const staged = await storage.stage();
    await staged.write(Buffer.from('junk'));
    await staged.discard();
    await staged.discard();
    t.same(await walkPaths(storage), []);
    t.equal(await storage.sweepStaged(), 0, 'nothing left to sweep');
  });

  withSubject('sweepStaged removes what a crashed writer left', async (t, { storage }) => {
    const staged = await storage.stage();
    await staged.write(Buffer.from('left behind'));
    t.ok((await storage.sweepStaged()) >= 1);
    t.same(await walkPaths(storage), []);
    await staged.discard(); // the "crashed" writer's handle, closed so the test leaks nothing
  });

  withSubject('commit replaces a file atomically and an open handle keeps the old version', async (t, { storage }) => {
    await put(storage, 'f', 'old version');
    const handle = await storage.open('f');
    await put(storage, 'f', 'the new one');
    t.equal(Buffer.from(await handle.read(0, 100)).toString(), 'old version', 'the handle reads the version it opened');
    await handle.close();
    t.equal(await readAll(storage, 'f'), 'the new one');
  });

  withSubject('a publish step that throws puts the previous version back (or nothing)', async (t, { storage }) => {
    await put(storage, 'f', 'previous');
    const staged = await storage.stage();
    await staged.write(Buffer.from('next'));
    let seen: StorageEntry | undefined;
    const failing = staged.commit('f', { executable: false }, (entry) => {
      seen = entry;
      throw new Error('index write failed');
    });
    await t.rejects(failing, /index write failed/);
    t.match(seen, { path: 'f', size: 4 }, 'publish saw the new entry');
    t.equal(await readAll(storage, 'f'), 'previous', 'the previous version is back');
    const fresh = await storage.stage();
    await fresh.write(Buffer.from('new file'));
    await t.rejects(fresh.commit('g', { executable: false }, () => { throw new Error('no'); }), /no/);
    t.equal(await storage.stat('g'), undefined, 'a new path stays absent');
    t.equal(await storage.sweepStaged(), 0, 'no staged or backup files left');
  });

  withSubject('commit onto a folder or below a file is a type conflict and changes nothing', async (t, { storage }) => {
    await storage.makeDir('d');
    await put(storage, 'f', 'file');
    await rejectsWith(t, put(storage, 'd', 'x'), 'TYPE_CONFLICT', 'onto a folder');
    await rejectsWith(t, put(storage, 'f/child', 'x'), 'TYPE_CONFLICT', 'below a file');
    t.same(await walkPaths(storage), ['dir:d', 'file:f']);
    t.equal(await storage.sweepStaged(), 0, 'the failed commits discarded their bytes');
  });

  withSubject('open reads positionally and streams ranges; it refuses missing files and folders', async (t, { storage }) => {
    await put(storage, 'r', '0123456789');
    const handle = await storage.open('r');
    t.equal(handle.size, 10);
    t.equal(Buffer.from(await handle.read(3, 4)).toString(), '3456');
    t.equal(Buffer.from(await handle.read(8, 10)).toString(), '89', 'short only at the end');
    if (handle.readSync) {
      t.equal(Buffer.from(handle.readSync(3, 4)).toString(), '3456', 'readSync, where offered, reads as read does');
      t.equal(Buffer.from(handle.readSync(8, 10)).toString(), '89');
    }
    if (handle.readInto) {
      const into = Buffer.alloc(6, 0x2d);
      t.equal(await handle.readInto(3, into.subarray(0, 4)), 4, 'readInto, where offered, fills what it is given');
      t.equal(into.toString(), '3456--');
      t.equal(await handle.readInto(8, into), 2, 'short only at the end');
      t.equal(into.toString(), '8956--');
    }
    const chunks: Buffer[] = [];
    for await (const c of handle.stream(2, 4)) chunks.push(c as Buffer);
    t.equal(Buffer.concat(chunks).toString(), '234', 'inclusive range');
    await handle.close();
    await rejectsWith(t, storage.open('missing'), 'NOT_FOUND', 'missing');
    await storage.makeDir('dir');
    await rejectsWith(t, storage.open('dir'), 'TYPE_CONFLICT', 'a folder');
  });

  withSubject('removeFile removes files only', async (t, { storage }) => {
    await put(storage, 'x/f', 'f');
    await storage.removeFile('x/f');
    t.equal(await storage.stat('x/f'), undefined);
    await rejectsWith(t, storage.removeFile('x/f'), 'NOT_FOUND', 'twice');
    await rejectsWith(t, storage.removeFile('x'), 'TYPE_CONFLICT', 'a folder');
  });

  withSubject('move renames files and folders with the overwrite rules', async (t, { storage }) => {
    await put(storage, 'a', 'A');
    await put(storage, 'b', 'B');
    await rejectsWith(t, storage.move('a', 'b', { overwrite: false }), 'ALREADY_EXISTS', 'onto a file without overwrite');
    await storage.move('a', 'b', { overwrite: true });
    t.equal(await readAll(storage, 'b'), 'A');
    const { createdDirs } = await storage.move('b', 'p/q/b', { overwrite: false });
    t.same(createdDirs.map((d) => d.path), ['p', 'p/q']);
    await storage.move('p', 'p2', { overwrite: false });
    t.equal(await readAll(storage, 'p2/q/b'), 'A');
    await rejectsWith(t, storage.move('p2', 'p2/inside', { overwrite: false }), 'TYPE_CONFLICT', 'into itself');
    await rejectsWith(t, storage.move('gone', 'x', { overwrite: false }), 'NOT_FOUND', 'missing source');
    await storage.makeDir('folder');
    await put(storage, 'file', 'f');
    await rejectsWith(t, storage.move('file', 'folder', { overwrite: true }), 'ALREADY_EXISTS', 'a folder is never replaced');
  });

  withSubject('makeDir is mkdir -p and reports only what it created', async (t, { storage }) => {
    t.same((await storage.makeDir('m/n/o')).map((d) => d.path), ['m', 'm/n', 'm/n/o']);
    t.same(await storage.makeDir('m/n/o'), []);
    t.same((await storage.makeDir('m/n/p')).map((d) => d.path), ['m/n/p']);
    await put(storage, 'm/file', 'f');
    await rejectsWith(t, storage.makeDir('m/file'), 'TYPE_CONFLICT', 'over a file');
    await rejectsWith(t, storage.makeDir('m/file/sub'), 'TYPE_CONFLICT', 'below a file');
  });

  withSubject('removeDir refuses non-empty folders unless recursive', async (t, { storage }) => {
    await put(storage, 'd/e/f', 'f');
    await rejectsWith(t, storage.removeDir('d', { recursive: false }), 'NOT_EMPTY', 'not empty');
    await rejectsWith(t, storage.removeDir('d/e/f', { recursive: false }), 'TYPE_CONFLICT', 'a file');
    await rejectsWith(t, storage.removeDir('zz', { recursive: false }), 'NOT_FOUND', 'missing');
    await storage.removeDir('d', { recursive: true });
    t.same(await walkPaths(storage), []);
    await storage.makeDir('empty');
    await storage.removeDir('empty', { recursive: false });
    t.equal(await storage.stat('empty'), undefined);
    t.equal(await storage.sweepStaged(), 0, 'the recursive delete left no trash');
  });

  withSubject('walk lists folders before their children, sorted, without the state folder', async (t, { storage }) => {
    await put(storage, 'b/2', '2');
    await put(storage, 'a', '1');
    await put(storage, 'b/1/x', 'x');
    t.same(await walkPaths(storage), ['file:a', 'dir:b', 'dir:b/1', 'file:b/1/x', 'file:b/2']);
  });

  withSubject('paths that break the path rule are refused before any I/O', async (t, { storage }) => {
    for (const bad of ['../x', '/abs', 'a//b', '.deltabox/state.db', 'cafe\u0301']) {
      await rejectsWith(t, storage.stat(bad), 'BAD_PATH', bad);
    }
    await rejectsWith(t, put(storage, '../escape', 'x'), 'BAD_PATH', 'commit');
  });

  withSubject('a symlink inside the root is never followed', async (t, { storage, plantSymlink }) => {
    plantSymlink!('link');
    await rejectsWith(t, storage.stat('link/file'), 'SYMLINK', 'stat through');
    await rejectsWith(t, storage.open('link'), 'SYMLINK', 'open');
    await rejectsWith(t, put(storage, 'link/new', 'x'), 'SYMLINK', 'write through');
    await rejectsWith(t, put(storage, 'link', 'x'), 'SYMLINK', 'write onto');
    await rejectsWith(t, storage.makeDir('link/sub'), 'SYMLINK', 'mkdir through');
    await rejectsWith(t, storage.removeFile('link'), 'SYMLINK', 'remove');
    t.same(await walkPaths(storage), [], 'not listed');
  }, features.symlinks ? false : `${name} has no symlinks`);
}
