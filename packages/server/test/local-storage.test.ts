import t from 'tap';
import { mkdtempSync, realpathSync, rmSync, symlinkSync, mkdirSync, writeFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '../src/index.js';
import { storageConformance, type ConformanceSubject } from './support/storage-conformance.js';
import { versionConformance } from './support/version-conformance.js';

const makeLocal = async (): Promise<ConformanceSubject> => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'dbx-storage-')));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(join(root, '.deltabox'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'secret');
  return {
    storage: new LocalStorage(root),
    plantSymlink: (path) => symlinkSync(outside, join(root, path)),
    cleanup: () => {
      t.same(readdirSync(outside), ['secret'], 'nothing was written outside the root');
      rmSync(base, { recursive: true, force: true });
    },
  };
};
storageConformance(t, 'LocalStorage', makeLocal, { symlinks: true });
versionConformance(t, 'LocalStorage', makeLocal);

t.test('LocalStorage keeps a version by moving the replaced inode into .deltabox/versions (no copy)', async (t) => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'dbx-versions-')));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const storage = new LocalStorage(root);
  const staged = await storage.stage();
  await staged.write(Buffer.from('old bytes'));
  const hash = staged.digest();
  const { entry } = await staged.commit('f.txt', { executable: false });
  const inode = statSync(join(root, 'f.txt')).ino;
  await storage.keepVersion('f.txt', { hash, size: entry.size, mtimeMs: entry.mtimeMs });
  const next = await storage.stage();
  await next.write(Buffer.from('new bytes'));
  await next.commit('f.txt', { executable: false });
  const object = join(root, '.deltabox', 'versions', hash.slice(0, 2), hash.slice(2));
  t.equal(statSync(object).ino, inode, 'the object is the replaced file itself');
  t.equal(statSync(object).nlink, 1, 'and its only name now');
  t.equal(readFileSync(object, 'utf8'), 'old bytes');
});
