/** The data-loss guards on real temp folders: nesting (client in/around the server), root identity, mass delete. */
import t from 'tap';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScannerError } from '../src/errors.js';
import { buildIgnoreRules } from '../src/detect/ignore-rules.js';
import { assertDeleteShare, countPlannedDeletes, countRemoteFiles } from '../src/guards/mass-delete-guard.js';
import { assertNotInsideServer, folderIdOf } from '../src/guards/nesting-guard.js';
import { RootIdentity } from '../src/state/root-identity.js';
import { StateStore, type RemoteEntry } from '../src/state/state-store.js';
import { walkTree } from '../src/detect/tree-walk.js';
import type { LocalEntry } from '../src/detect/change-detector.js';

function temp(t: Tap.Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-guard-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function idOf(dir: string) {
  const st = statSync(dir, { bigint: true });
  return folderIdOf({ folderId: 'x', dev: String(st.dev), ino: String(st.ino) })!;
}

t.test('a client folder that is the server folder, or lies inside it, is refused, also through a symlink', async (t) => {
  const base = temp(t);
  mkdirSync(join(base, 'same/sub/deeper'), { recursive: true });
  symlinkSync(join(base, 'same'), join(base, 'samelink'));
  const server = idOf(join(base, 'same'));
  for (const cdir of ['same', 'same/sub', 'same/sub/deeper', 'samelink', 'samelink/sub']) {
    t.throws(() => assertNotInsideServer(join(base, cdir), server), { code: 'UNSAFE_FOLDER', message: /refusing to sync/ }, cdir);
  }
  mkdirSync(join(base, 'elsewhere'));
  t.doesNotThrow(() => assertNotInsideServer(join(base, 'elsewhere'), server), 'a sibling folder is fine');
  t.equal(folderIdOf({ folderId: 'x', dev: 'abc', ino: '1' }), undefined, 'a malformed identity is not trusted');
});

t.test('a walk that meets the server folder under the client folder stops before listing anything', async (t) => {
  const base = temp(t);
  mkdirSync(join(base, 'client/a/server'), { recursive: true });
  writeFileSync(join(base, 'client/a/server/precious.txt'), 'x');
  const serverFolder = idOf(join(base, 'client/a/server'));
  t.throws(() => walkTree(join(base, 'client'), buildIgnoreRules(), () => {}, { serverFolder }), {
    code: 'UNSAFE_FOLDER',
    message: /contains the server's folder \(at a\/server\)/,
  });
  t.equal(walkTree(join(base, 'client'), buildIgnoreRules(), () => {}).entries.size, 3, 'without the identity it is an ordinary tree');
});

t.test('the root identity: a folder swapped for an empty one, or a missing marker, stops the scanner', async (t) => {
  const base = temp(t);
  const root = join(base, 'c');
  const stateDir = join(root, '.deltabox');
  mkdirSync(stateDir, { recursive: true });
  const store = new StateStore(stateDir);
  t.teardown(() => store.close());
  const identity = new RootIdentity(root, stateDir, store);
  t.doesNotThrow(() => identity.verify(), 'the folder it started on');

  renameSync(root, join(base, 'c_moved')); // what an unmounted drive looks like
  mkdirSync(root);
  t.throws(() => identity.verify(), { code: 'UNSAFE_FOLDER', message: /another folder is now at its path.*Nothing was deleted/ });
  rmSync(root, { recursive: true });
  t.throws(() => identity.verify(), { code: 'UNSAFE_FOLDER', message: /it is gone/ });
  renameSync(join(base, 'c_moved'), root);
  t.doesNotThrow(() => identity.verify(), 'back in place');

  rmSync(join(stateDir, 'folder-id'));
  t.throws(() => identity.verify(), { code: 'UNSAFE_FOLDER', message: /marker file .* is missing/ });
  t.throws(() => new RootIdentity(root, stateDir, store), { code: 'UNSAFE_FOLDER' }, 'and on the next start');
  writeFileSync(join(stateDir, 'folder-id'), 'someone-else\n');
  t.throws(() => new RootIdentity(root, stateDir, store), { code: 'UNSAFE_FOLDER', message: /names another folder/ });
});

t.test('a folder copied with its state (new inode, same marker) is accepted at start', async (t) => {
  const base = temp(t);
  const stateDir = join(base, 'c/.deltabox');
  mkdirSync(stateDir, { recursive: true });
  let store = new StateStore(stateDir);
  new RootIdentity(join(base, 'c'), stateDir, store);
  store.close();
  renameSync(join(base, 'c'), join(base, 'old'));
  mkdirSync(join(base, 'c'));
  renameSync(join(base, 'old/.deltabox'), join(base, 'c/.deltabox'));
  store = new StateStore(stateDir);
  t.teardown(() => store.close());
  const identity = new RootIdentity(join(base, 'c'), stateDir, store);
  t.doesNotThrow(() => identity.verify());
});

function remoteFiles(paths: string[]): Map<string, RemoteEntry> {
  return new Map(paths.map((path) => [path, { path, type: path.endsWith('/') ? 'dir' : 'file', size: 1, mtimeMs: 0, hash: `h-${path}`, executable: false } as RemoteEntry]));
}

t.test('the mass-delete guard counts the server files a pass would delete, less moves, against the limit', async (t) => {
  const names = Array.from({ length: 20 }, (_, i) => `d/f${i}`);
  const remote = remoteFiles(names);
  remote.set('d', { path: 'd', type: 'dir', size: 0, mtimeMs: 0, executable: false });
  const local = new Map<string, LocalEntry>();
  t.equal(countRemoteFiles(remote), 20);
  t.equal(countPlannedDeletes(remote, local, remote.keys(), new Set()), 20, 'an empty client deletes every file');
  t.equal(countPlannedDeletes(remote, local, remote.keys(), new Set(['d'])), 0, 'a folder moved away deletes nothing');
  const limit = { maxDeletePercent: 50, allowMassDelete: false };
  t.throws(() => assertDeleteShare(11, 20, limit), { code: 'MASS_DELETE', message: /11 of the server's 20 files \(55%.*--allow-mass-delete/ });
  t.doesNotThrow(() => assertDeleteShare(10, 20, limit), 'exactly half is allowed');
  t.doesNotThrow(() => assertDeleteShare(10, 10, limit), 'a server with 10 files or fewer is not guarded');
  t.throws(() => assertDeleteShare(3, 3, limit, true), { code: 'MASS_DELETE', message: /3 of the server's 3 files.*first sync/ }, 'except on a first sync');
  t.doesNotThrow(() => assertDeleteShare(1, 3, limit, true), 'a first sync within the share goes through');
  t.doesNotThrow(() => assertDeleteShare(20, 20, { ...limit, allowMassDelete: true }), 'confirmed');
  t.throws(() => assertDeleteShare(3, 100, { maxDeletePercent: 2, allowMassDelete: false }), ScannerError);
});

t.test('a client folder in a folder a server has served is refused before any state is written', async (t) => {
  const { assertNoServerFolderAbove } = await import('../src/guards/nesting-guard.js');
  const base = temp(t);
  mkdirSync(join(base, 'srv/.deltabox'), { recursive: true });
  writeFileSync(join(base, 'srv/.deltabox/state.db'), '');
  symlinkSync(join(base, 'srv'), join(base, 'link'));
  for (const cdir of ['srv', 'srv/sub', 'srv/not/yet/made', 'link/sub']) {
    t.throws(() => assertNoServerFolderAbove(join(base, cdir)), { code: 'UNSAFE_FOLDER', message: /deltabox server's folder/ }, cdir);
  }
  mkdirSync(join(base, 'client'));
  t.doesNotThrow(() => assertNoServerFolderAbove(join(base, 'client')));
});
