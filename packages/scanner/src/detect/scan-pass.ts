/**
 * One scan of the client folder: walk, quick check, hash what changed (stable reads), classify, check the
 * guards (the folder is still the one the state belongs to; the pass does not delete too much of the
 * server), then record the rows and queue the changes in one transaction. The scanner decides when to run it.
 */
import { join } from 'node:path';
import { classifyChanges, planScan, type HashedEntry, type LocalEntry, type ScanPlan } from './change-detector.js';
import { hashFileStable } from '../transfer/file-reader.js';
import { loadIgnoreRules } from './ignore-rules.js';
import { assertDeleteShare, countPlannedDeletes, countRemoteFiles, queuedMoveSources, type MassDeleteLimit } from '../guards/mass-delete-guard.js';
import type { OpQueue } from '../queue/op-queue.js';
import type { StateStore } from '../state/state-store.js';
import type { SyncState } from '../state/sync-state.js';
import { walkedEntryOf, walkListing, walkTree, type FolderId, type WalkedEntry, type WarnFn } from './tree-walk.js';
import type { TreeListing } from './tree-listing.js';

export interface ScanPassResult {
  /** Changes queued. */
  changes: number;
  /** A file changed while hashed or vanished: scan again soon. */
  retrySoon: boolean;
  /** Entries skipped with a warning (symlinks, special files, names that are not valid UTF-8...). */
  skipped: number;
}

export interface ScanPassGuards {
  /** The server's folder, when known: meeting it in the walk stops the pass (UNSAFE_FOLDER). */
  serverFolder?: FolderId;
  /** Throws unless the root is still the folder the state belongs to; run before the walk and before recording. */
  verifyRoot(): void;
  /** The mass-delete limit for the deletes this pass would queue. */
  limit: MassDeleteLimit;
}

/**
 * Scans once and queues what changed. `listing`: the folder as a ListingWorker listed it since the local rows
 * last changed (the caller's promise), read instead of walking the folder again; its start is the scan's start.
 * @throws ScannerError UNSAFE_FOLDER or MASS_DELETE before anything is recorded or queued
 */
export async function runScanPass(
  root: string,
  state: SyncState,
  queue: OpQueue,
  store: StateStore,
  warn: WarnFn,
  guards: ScanPassGuards,
  listing?: TreeListing,
): Promise<ScanPassResult> {
  guards.verifyRoot();
  const { plan, startedMs, skipped } = planPass(root, state, warn, guards, listing);
  const { hashed, retrySoon } = await hashChanged(root, plan.changed, warn);
  const outcome = classifyChanges(state.local, hashed, plan.removed, startedMs);
  guards.verifyRoot(); // an emptied or swapped folder found mid-walk must not be recorded as deletions
  const upserted = outcome.upserts.filter((row) => row.type === 'dir');
  if (outcome.deletes.length > 0 || upserted.length > 0) {
    const upserts = new Map(outcome.upserts.map((row) => [row.path, row]));
    const gone = new Set(outcome.deletes);
    const after = { get: (p: string): LocalEntry | undefined => upserts.get(p) ?? (gone.has(p) ? undefined : state.local.get(p)) };
    const sources = queuedMoveSources(outcome.changes.map((c) => ({ kind: c.kind === 'moved' ? 'move' : c.kind, ...(c.from === undefined ? {} : { from: c.from }) })));
    queuedMoveSources(queue.entries(), sources);
    const deletes = countPlannedDeletes(state.remote, after, [...outcome.deletes, ...upserted.map((r) => r.path)], sources);
    if (deletes > 0) assertDeleteShare(deletes, countRemoteFiles(state.remote), guards.limit);
  }
  const now = Date.now();
  store.transaction(() => {
    state.applyScan(outcome);
    for (const change of outcome.changes) {
      queue.enqueue(change.path, now, change.kind === 'moved' ? 'move' : 'sync', change.from);
      // A move whose source is being uploaded right now: the move may go out as an upload (the server does
      // not hold the source yet), and the source's upload then lands after it. Queue the source again, so it
      // outlives that upload and is deleted (or found moved) once the move is done.
      if (change.kind === 'moved' && change.from !== undefined && queue.isInFlight(change.from)) queue.enqueue(change.from, now);
    }
  });
  return { changes: outcome.changes.length, retrySoon, skipped };
}

/**
 * Walks (or reads the listing) and plans. The walk's map of every entry is dropped on return: only the
 * changed entries live on, in the plan.
 */
function planPass(root: string, state: SyncState, warn: WarnFn, guards: ScanPassGuards, listing: TreeListing | undefined): { plan: ScanPlan; startedMs: number; skipped: number } {
  const rules = loadIgnoreRules(root);
  const options = guards.serverFolder === undefined ? {} : { serverFolder: guards.serverFolder };
  const listed = listing === undefined ? undefined : walkListing(listing, root, rules, warn, options);
  // The racy-mtime rule needs a start no later than the first lstat of the walk.
  const startedMs = listed !== undefined ? listing!.startedMs : Date.now();
  const walk = listed ?? walkTree(root, rules, warn, options);
  const plan = planScan(state.local, walk);
  return { plan, startedMs, skipped: walk.skipped };
}

/**
 * Hashes the changed files (stable reads). Each one's row is made once, from the stat its hash was read at,
 * and takes the walked entry's place in `changed`, which becomes the hashed list: a first sync of 100,000 files
 * held the walk's entries, a copy with the hash and a copy with `racy` until the pass ended, and the peak RSS
 * was the heap grown over those. Files that could not be read are left out (they keep their old rows).
 */
async function hashChanged(root: string, changed: WalkedEntry[], warn: WarnFn): Promise<{ hashed: HashedEntry[]; retrySoon: boolean }> {
  const hashed: HashedEntry[] = changed;
  let retrySoon = false;
  let kept = 0;
  for (let i = 0; i < changed.length; i++) {
    const entry = changed[i]!;
    if (entry.type === 'dir') {
      hashed[kept++] = entry;
      continue;
    }
    try {
      const { hash, stat } = await hashFileStable(join(root, entry.diskPath));
      const row: HashedEntry = walkedEntryOf(entry.path, entry.diskPath, stat);
      row.hash = hash;
      hashed[kept++] = row;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'FILE_CHANGED' || code === 'ENOENT') retrySoon = true;
      else warn('unreadable file skipped', { path: entry.path, err: String(err) });
    }
  }
  hashed.length = kept;
  return { hashed, retrySoon };
}
