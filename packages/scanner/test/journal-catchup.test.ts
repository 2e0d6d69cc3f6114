/**
 * The remote view follows the server's change journal (pull/journal-catchup.ts), with a real state store.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChangeRecord } from '@deltabox/protocol';
import { applyJournal, ownWrite } from '../src/pull/journal-catchup.js';
import { StateStore } from '../src/state/state-store.js';
import { SyncState } from '../src/state/sync-state.js';

function openState(t: Tap.Test): SyncState {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-journal-'));
  const store = new StateStore(join(dir, 'state'));
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return new SyncState(store);
}

const rec = (revision: number, op: ChangeRecord['op'], path: string, hash?: string): ChangeRecord => ({ revision, op, path, timeMs: 0, ...(hash ? { hash, size: 1 } : {}) });

t.test('a mkdir journaled after a file inside that folder keeps the file in the view', async (t) => {
  // A server before 2026-12-02 could record writes racing into one new folder in this order.
  const state = openState(t);
  t.ok(applyJournal(state, [rec(1, 'mkdir', 'd'), rec(2, 'put', 'd/x/y/f.bin', 'h1'), rec(3, 'mkdir', 'd/x'), rec(4, 'mkdir', 'd/x/y')], new Map()));
  t.equal(state.remote.get('d/x/y/f.bin')?.hash, 'h1', 'the file is still in the view (it was dropped, and the device never pulled it)');
  t.equal(state.remote.get('d/x')?.type, 'dir');
});

t.test('a mkdir where the view holds a file replaces the file', async (t) => {
  const state = openState(t);
  t.ok(applyJournal(state, [rec(1, 'put', 'p', 'h1'), rec(2, 'mkdir', 'p')], new Map()));
  t.equal(state.remote.get('p')?.type, 'dir');
  t.ok(applyJournal(state, [rec(3, 'put', 'p/q', 'h2'), rec(4, 'rmdir', 'p')], new Map()));
  t.equal(state.remote.get('p/q'), undefined, 'rmdir still removes the subtree');
});

t.test("a write the server already held, answered with another device's move, does not hide that move", async (t) => {
  // The device made folder n/e (PUT /v1/dirs) after another device had moved folder f there: the server answered
  // with the folder's entry as the move left it, revision 7 (shared-load seed 1201).
  const state = openState(t);
  t.ok(applyJournal(state, [rec(1, 'mkdir', 'f'), rec(2, 'put', 'f/a.txt', 'h1'), rec(3, 'mkdir', 'f/g'), rec(4, 'mkdir', 'n')], new Map()));
  state.setRemote({ path: 'n/e', type: 'dir', size: 0, mtimeMs: 0, executable: false }); // from the mkdir's answer
  const moved: ChangeRecord = { revision: 7, op: 'move', path: 'n/e', from: 'f', timeMs: 0 };
  t.ok(applyJournal(state, [moved], new Map([[7, ownWrite('mkdir', 'n/e')]])));
  t.equal(state.remote.get('n/e/a.txt')?.hash, 'h1', 'the moved file is in the view at its new path');
  t.equal(state.remote.get('n/e/g')?.type, 'dir');
  t.equal(state.remote.get('f'), undefined, 'and gone from the old one');
  // An own write of the same kind is skipped, as before.
  t.ok(applyJournal(state, [rec(8, 'put', 'n/e/b.txt', 'h2')], new Map([[8, ownWrite('put', 'n/e/b.txt')]])));
  t.equal(state.remote.get('n/e/b.txt'), undefined, 'an own put is not applied again (its answer already was)');
});

t.test("another device's change before one of ours is applied when it touches none of our paths; else the manifest is asked for", async (t) => {
  const state = openState(t);
  t.ok(applyJournal(state, [rec(1, 'mkdir', 'a'), rec(2, 'mkdir', 'b'), rec(3, 'put', 'a/x', 'h1')], new Map()));
  // Ours: put b/mine at 6 (already in the view from its answer). Theirs, before it: other paths.
  state.setRemote({ path: 'b/mine', type: 'file', size: 1, mtimeMs: 0, hash: 'h9', executable: false });
  const own = new Map([[6, ownWrite('put', 'b/mine')]]);
  const theirs: ChangeRecord[] = [rec(4, 'put', 'a/y', 'h2'), { revision: 5, op: 'move', path: 'c', from: 'a/x', timeMs: 0 }, rec(6, 'put', 'b/mine', 'h9'), rec(7, 'put', 'a/z', 'h3')];
  t.ok(applyJournal(state, theirs, own), 'applied from the journal (before: a whole manifest)');
  t.same(['a/y', 'c', 'a/z', 'b/mine'].map((p) => state.remote.get(p)?.hash), ['h2', 'h1', 'h3', 'h9']);
  t.equal(state.remote.get('a/x'), undefined, 'the move took its source away');
  // A mkdir of a folder above ours commutes too: it only adds the folder.
  const own2 = new Map([[9, ownWrite('put', 'n/m/f')]]);
  state.setRemote({ path: 'n/m/f', type: 'file', size: 1, mtimeMs: 0, hash: 'h8', executable: false });
  t.ok(applyJournal(state, [rec(8, 'mkdir', 'n'), rec(9, 'put', 'n/m/f', 'h8')], own2));
  t.equal(state.remote.get('n/m/f')?.hash, 'h8');

  for (const [label, before] of [
    ['their put of the same path', rec(10, 'put', 'b/mine', 'h0')],
    ['their removal of a folder above ours', rec(10, 'rmdir', 'b')],
    ['their move onto a folder above ours', { revision: 10, op: 'move', path: 'b', from: 'a', timeMs: 0 } as ChangeRecord],
    ['their move away from below ours', { revision: 10, op: 'move', path: 'q', from: 'b/mine', timeMs: 0 } as ChangeRecord],
  ] as const) {
    const s2 = openState(t);
    s2.setRemote({ path: 'b', type: 'dir', size: 0, mtimeMs: 0, executable: false });
    s2.setRemote({ path: 'b/mine', type: 'file', size: 1, mtimeMs: 0, hash: 'h9', executable: false });
    t.notOk(applyJournal(s2, [before, rec(11, 'put', 'b/mine', 'h9')], new Map([[11, ownWrite('put', 'b/mine')]])), `${label}: the manifest decides`);
  }
  const s3 = openState(t);
  s3.setRemote({ path: 'd', type: 'dir', size: 0, mtimeMs: 0, executable: false });
  t.notOk(applyJournal(s3, [rec(12, 'mkdir', 'd/e'), rec(13, 'rmdir', 'd')], new Map([[13, ownWrite('rmdir', 'd')]])), 'their mkdir below a folder we then removed: the manifest decides');
});
