/** SyncState's base bookkeeping, with a real state store. */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore } from '../src/state/state-store.js';
import { SyncState } from '../src/state/sync-state.js';

/** A SyncState over a real state store in a temp folder, removed after the test. */
function openState(t: Test): { state: SyncState; store: StateStore } {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-sync-state-'));
  const store = new StateStore(join(dir, 'state'));
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { state: new SyncState(store), store };
}

t.test('settling a moved folder drops the base rows the server no longer has, except the sources of queued revives', async (t) => {
  const { state } = openState(t);
  const row = (path: string, type: 'file' | 'dir' = 'file') => ({ path, type, size: 0, mtimeMs: 0, executable: false, ...(type === 'file' ? { hash: `h-${path}` } : {}) });
  for (const r of [row('shared', 'dir'), row('shared/a'), row('shared/gone'), row('shared/revived')]) state.setBase(r);
  // The server moved `shared` to `m` (carrying a) after deleting `gone` and `revived`; a revive of `revived` is queued.
  for (const r of [row('m', 'dir'), row('m/a')]) state.setRemote(r);
  state.settleBase('shared', (p) => p === 'shared/revived');
  t.same([...state.base.keys()].sort(), ['shared/revived'], 'the revive keeps its source; the rest of the old folder is forgotten');
  state.settleBase('shared/revived');
  t.same([...state.base.keys()], [], 'settled in turn once its revive is done (or by the merge)');
});

t.test('settling a file touches its own base row only, in memory and in the store', async (t) => {
  const { state, store } = openState(t);
  const row = (path: string, hash = `h-${path}`) => ({ path, type: 'file' as const, size: 1, mtimeMs: 0, executable: false, hash });
  for (const r of [row('a', 'old'), row('a.txt'), row('ab'), row('gone'), row('kept')]) state.setBase(r);
  state.setRemote(row('a', 'new'));
  state.setRemote(row('fresh'));
  state.settleBase('a');
  state.settleBase('fresh');
  state.settleBase('gone');
  state.settleBase('kept', (p) => p === 'kept');
  const expected = { a: 'new', 'a.txt': 'h-a.txt', ab: 'h-ab', fresh: 'h-fresh', kept: 'h-kept' };
  const hashes = (m: Map<string, { hash?: string }>) => Object.fromEntries([...m].sort(([x], [y]) => x.localeCompare(y)).map(([p, r]) => [p, r.hash]));
  t.same(hashes(state.base), expected, 'a and fresh take the remote rows, gone is dropped, kept and the neighbours stay');
  t.same(hashes(store.loadBase()), expected, 'the store holds the same rows');
});
