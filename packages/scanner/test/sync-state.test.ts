/** SyncState's base bookkeeping, with a real state store. */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore } from '../src/state/state-store.js';
import { SyncState } from '../src/state/sync-state.js';

t.test('settling a moved folder drops the base rows the server no longer has, except the sources of queued revives', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-sync-state-'));
  const store = new StateStore(join(dir, 'state'));
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const state = new SyncState(store);
  const row = (path: string, type: 'file' | 'dir' = 'file') => ({ path, type, size: 0, mtimeMs: 0, executable: false, ...(type === 'file' ? { hash: `h-${path}` } : {}) });
  for (const r of [row('shared', 'dir'), row('shared/a'), row('shared/gone'), row('shared/revived')]) state.setBase(r);
  // The server moved `shared` to `m` (carrying a) after deleting `gone` and `revived`; a revive of `revived` is queued.
  for (const r of [row('m', 'dir'), row('m/a')]) state.setRemote(r);
  state.settleBase('shared', (p) => p === 'shared/revived');
  t.same([...state.base.keys()].sort(), ['shared/revived'], 'the revive keeps its source; the rest of the old folder is forgotten');
  state.settleBase('shared/revived');
  t.same([...state.base.keys()], [], 'settled in turn once its revive is done (or by the merge)');
});
