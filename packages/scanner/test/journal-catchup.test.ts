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
