/**
 * The remote view follows the server's change journal (pull/journal-catchup.ts), with a real state store.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChangeRecord } from '@deltabox/protocol';
import { applyJournal } from '../src/pull/journal-catchup.js';
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
  t.ok(applyJournal(state, [rec(1, 'mkdir', 'd'), rec(2, 'put', 'd/x/y/f.bin', 'h1'), rec(3, 'mkdir', 'd/x'), rec(4, 'mkdir', 'd/x/y')], new Set()));
  t.equal(state.remote.get('d/x/y/f.bin')?.hash, 'h1', 'the file is still in the view (it was dropped, and the device never pulled it)');
  t.equal(state.remote.get('d/x')?.type, 'dir');
});

t.test('a mkdir where the view holds a file replaces the file', async (t) => {
  const state = openState(t);
  t.ok(applyJournal(state, [rec(1, 'put', 'p', 'h1'), rec(2, 'mkdir', 'p')], new Set()));
  t.equal(state.remote.get('p')?.type, 'dir');
  t.ok(applyJournal(state, [rec(3, 'put', 'p/q', 'h2'), rec(4, 'rmdir', 'p')], new Set()));
  t.equal(state.remote.get('p/q'), undefined, 'rmdir still removes the subtree');
});
