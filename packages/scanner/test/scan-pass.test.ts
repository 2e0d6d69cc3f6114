import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScanPass } from '../src/detect/scan-pass.js';
import { ListingWorker } from '../src/detect/tree-listing.js';
import { OpQueue } from '../src/queue/op-queue.js';
import { StateStore } from '../src/state/state-store.js';
import { SyncState } from '../src/state/sync-state.js';

/** A client folder with a state store in a temp folder, removed after the test. */
function openFolder(t: { teardown(fn: () => void): void }) {
  const root = mkdtempSync(join(tmpdir(), 'dbx-scan-pass-'));
  const store = new StateStore(join(root, '.deltabox'));
  t.teardown(() => {
    store.close();
    rmSync(root, { recursive: true, force: true });
  });
  const state = new SyncState(store);
  const queue = new OpQueue(store.loadQueue(), store);
  const guards = { verifyRoot() {}, limit: { maxDeletePercent: 50, allowMassDelete: true } };
  const scan = (listing?: ReturnType<ListingWorker['take']>) => runScanPass(root, state, queue, store, () => {}, guards, listing);
  return { root, state, queue, scan };
}

t.test('a scan from a listing finds what changed, and its start is the listing\'s for the racy-mtime rule', async (t) => {
  const { root, state, queue, scan } = openFolder(t);
  mkdirSync(join(root, 'd'));
  writeFileSync(join(root, 'd/old.txt'), 'old');
  writeFileSync(join(root, 'd/edited.txt'), 'v1');
  const past = new Date(Date.now() - 3_600_000);
  for (const f of ['d/old.txt', 'd/edited.txt']) utimesSync(join(root, f), past, past);
  await scan();
  t.equal(state.local.get('d/old.txt')?.racy, false, 'an hour-old file is not racy');
  // The rule exists for an edit that keeps size and mtime: a row recorded near its file's mtime is hashed again.
  // Measured from the listing's start, not from when the scan ran (after a slow state load, say): files written
  // a minute ago, and a listing said to have started half a second after that.
  const written = Date.now() - 60_000;
  writeFileSync(join(root, 'd/edited.txt'), 'v2');
  writeFileSync(join(root, 'd/new.txt'), 'new');
  for (const f of ['d/edited.txt', 'd/new.txt']) utimesSync(join(root, f), new Date(written), new Date(written));
  const listing = new ListingWorker(root).take()!;
  listing.startedMs = written + 500;
  const result = await scan(listing);
  t.equal(result.changes, 2, 'the edit and the new file');
  t.ok(queue.get('d/edited.txt') && queue.get('d/new.txt'), 'both queued');
  t.equal(state.local.get('d/edited.txt')?.racy, true, 'written just before the listing started: hashed again next scan');
  t.equal(state.local.get('d/new.txt')?.racy, true);
  t.equal(state.local.get('d/old.txt')?.racy, false);
});
