/**
 * One scan of the client folder: walk, quick check, hash what changed (stable reads), classify, then record
 * the rows and queue the changes in one transaction. The scanner decides when to run it.
 */
import { join } from 'node:path';
import { classifyChanges, planScan, type HashedEntry } from './change-detector.js';
import { hashFileStable } from './file-reader.js';
import { loadIgnoreRules } from './ignore-rules.js';
import type { OpQueue } from './op-queue.js';
import type { StateStore } from './state-store.js';
import type { SyncState } from './sync-state.js';
import { walkedEntryOf, walkTree, type WarnFn } from './tree-walk.js';

export interface ScanPassResult {
  /** Changes queued. */
  changes: number;
  /** A file changed while hashed or vanished: scan again soon. */
  retrySoon: boolean;
}

export async function runScanPass(root: string, state: SyncState, queue: OpQueue, store: StateStore, warn: WarnFn): Promise<ScanPassResult> {
  const startedMs = Date.now();
  const walk = walkTree(root, loadIgnoreRules(root), warn);
  const plan = planScan(state.local, walk);
  const hashed: HashedEntry[] = [];
  let retrySoon = false;
  for (const entry of plan.changed) {
    if (entry.type === 'dir') {
      hashed.push(entry);
      continue;
    }
    try {
      const { hash, stat } = await hashFileStable(join(root, entry.diskPath));
      hashed.push({ ...walkedEntryOf(entry.path, entry.diskPath, stat), hash });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'FILE_CHANGED' || code === 'ENOENT') retrySoon = true;
      else warn('unreadable file skipped', { path: entry.path, err: String(err) });
    }
  }
  const outcome = classifyChanges(state.local, hashed, plan.removed, startedMs);
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
  return { changes: outcome.changes.length, retrySoon };
}
