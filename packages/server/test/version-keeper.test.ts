/**
 * VersionKeeper.keep with a real LocalStorage and state database: the versions a batch replaces are kept at
 * once (their links and folder fsyncs overlap), and a failure removes what the call created.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManifestEntry } from '@deltabox/protocol';
import { LocalStorage } from '../src/index.js';
import { VersionKeeper } from '../src/history/version-keeper.js';
import { VersionTable } from '../src/state/version-table.js';
import { openStateDb } from '../src/state/database.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

function rig(t: Tap.Test, files: number) {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'dbx-keeper-')));
  const db = openStateDb(root);
  t.teardown(() => {
    db.close();
    rmSync(root, { recursive: true, force: true });
  });
  const storage = new LocalStorage(root);
  const entries: ManifestEntry[] = [];
  for (let i = 0; i < files; i++) {
    const path = `f${i}.txt`;
    const body = `content of file ${i}\n`;
    writeFileSync(join(root, path), body);
    const st = statSync(join(root, path));
    entries.push({ path, type: 'file', size: st.size, mtimeMs: Math.round(st.mtimeMs), hash: sha(body), executable: false, revision: i + 1 });
  }
  const objectOf = (hash: string): string => join(root, '.deltabox', 'versions', hash.slice(0, 2), hash.slice(2));
  return { storage, table: new VersionTable(db), entries, objectOf };
}

t.test("a batch's versions are kept at once, not one after another", async (t) => {
  const { storage, table, entries, objectOf } = rig(t, 16);
  let inFlight = 0;
  let most = 0;
  const keepVersion = storage.keepVersion.bind(storage);
  storage.keepVersion = async (path, expected) => {
    most = Math.max(most, ++inFlight);
    try {
      return await keepVersion(path, expected);
    } finally {
      inFlight--;
    }
  };
  const keeper = new VersionKeeper(storage, table);
  const kept = await keeper.keep(entries);
  t.equal(kept.objects.size, 16);
  t.ok(entries.every((e) => existsSync(objectOf(e.hash!))), 'every object is in the store');
  t.ok(most > 1, `keeps overlapped (at most ${most} at once)`);
  t.ok(entries.every((e) => keeper.isPinned(e.hash!)), 'pinned until released');
  kept.release();
  t.notOk(entries.some((e) => keeper.isPinned(e.hash!)));
});

t.test('one failed keep: the objects the call created are removed, nothing stays pinned, the error is thrown', async (t) => {
  const { storage, table, entries, objectOf } = rig(t, 8);
  const keepVersion = storage.keepVersion.bind(storage);
  storage.keepVersion = async (path, expected) => {
    if (path === 'f3.txt') {
      await new Promise((r) => setTimeout(r, 20)); // the others are done by then
      throw new Error('disk full');
    }
    return keepVersion(path, expected);
  };
  const keeper = new VersionKeeper(storage, table);
  await t.rejects(keeper.keep(entries), /disk full/);
  t.notOk(entries.some((e) => existsSync(objectOf(e.hash!))), 'no object left behind');
  t.notOk(entries.some((e) => keeper.isPinned(e.hash!)), 'no pin left behind');
});
