/** SyncState's base bookkeeping, with a real state store. */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore } from '../src/state/state-store.js';
import { SyncState } from '../src/state/sync-state.js';
import type { LocalEntry } from '../src/detect/change-detector.js';
import type { Test } from 'tap';

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
const row = (path: string, type: 'file' | 'dir' = 'file', hash = `h-${path}`) => ({ path, type, size: 0, mtimeMs: 0, executable: false, ...(type === 'file' ? { hash } : {}) });
const lrow = (path: string, type: 'file' | 'dir' = 'file', hash = `h-${path}`): LocalEntry => ({ path, diskPath: path, type, size: 0, mtimeMs: 0, ino: 1, mode: 0o644, racy: false, ...(type === 'file' ? { hash } : {}) });

t.test('settling a folder that exists on both sides takes its own row only: an edit below it stays the merge\'s', async (t) => {
  const { state } = openState(t);
  for (const r of [row('d', 'dir'), row('d/f', 'file', 'h1')]) state.setBase(r);
  // Another device edited d/f (the journal brought it into the remote view); this folder still has the old bytes.
  for (const r of [row('d', 'dir'), row('d/f', 'file', 'h2')]) state.setRemote(r);
  for (const r of [lrow('d', 'dir'), lrow('d/f', 'file', 'h1')]) state.setLocal(r);
  state.settlePushed('d', undefined, false);
  t.equal(state.base.get('d/f')?.hash, 'h1', 'the base keeps what this device last agreed on (before: h2, and the next merge pushed h1 over the edit)');
});

t.test('a queued folder move that went up as a new folder (its source still here) leaves the source\'s base alone', async (t) => {
  const { state } = openState(t);
  // d held x; another device moved d/x to e/x. This device moved d to n (then d/new appeared here, so d stays).
  for (const r of [row('d', 'dir'), row('d/x'), row('d/y')]) state.setBase(r);
  for (const r of [row('d', 'dir'), row('d/y'), row('e', 'dir'), row('e/x', 'file', 'h-d/x'), row('n', 'dir')]) state.setRemote(r);
  for (const r of [lrow('d', 'dir'), lrow('d/new'), lrow('n', 'dir'), lrow('n/x', 'file', 'h-d/x'), lrow('n/y', 'file', 'h-d/y')]) state.setLocal(r);
  state.settlePushed('n', 'd', true);
  t.same([...state.base.keys()].sort(), ['d', 'd/x', 'd/y', 'n'], 'd/x stays in the base: the merge pairs n/x with the server\'s e/x (before: dropped, n/x went up as a new file)');
  // Once the server made the move, the source and the rows below it are settled.
  state.moveRemote('d', 'n', row('n', 'dir'));
  state.settlePushed('n', 'd', true);
  t.same([...state.base.keys()].sort(), ['n', 'n/y'], 'a move the server made settles both trees');
});

t.test('settling a moved folder drops the base rows the server no longer has, except the sources of queued revives', async (t) => {
  const { state } = openState(t);
  for (const r of [row('shared', 'dir'), row('shared/a'), row('shared/gone'), row('shared/revived')]) state.setBase(r);
  // The server moved `shared` to `m` (carrying a) after deleting `gone` and `revived`; a revive of `revived` is queued.
  for (const r of [row('m', 'dir'), row('m/a')]) state.setRemote(r);
  state.settleBase('shared', { tree: true, keep: (p) => p === 'shared/revived' });
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
  state.settleBase('kept', { tree: true, keep: (p) => p === 'kept' });
  const expected = { a: 'new', 'a.txt': 'h-a.txt', ab: 'h-ab', fresh: 'h-fresh', kept: 'h-kept' };
  const hashes = (m: Map<string, { hash?: string }>) => Object.fromEntries([...m].sort(([x], [y]) => x.localeCompare(y)).map(([p, r]) => [p, r.hash]));
  t.same(hashes(state.base), expected, 'a and fresh take the remote rows, gone is dropped, kept and the neighbours stay');
  t.same(hashes(store.loadBase()), expected, 'the store holds the same rows');
});

t.test('every write of a local row counts in localWrites (a listing made before one is not compared with the rows); remote and base writes do not', async (t) => {
  const { state } = openState(t);
  const counts = [state.localWrites];
  state.setRemote(row('r'));
  state.setBase(row('r'));
  counts.push(state.localWrites);
  state.setLocal(lrow('a'));
  counts.push(state.localWrites);
  state.deleteLocal('a');
  counts.push(state.localWrites);
  state.applyScan({ upserts: [lrow('b')], deletes: [], changes: [] });
  counts.push(state.localWrites);
  state.applyScan({ upserts: [], deletes: ['b'], changes: [] });
  counts.push(state.localWrites);
  t.same(counts, [0, 0, 1, 2, 3, 4]);
});
