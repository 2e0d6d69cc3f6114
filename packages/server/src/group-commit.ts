/**
 * Group commit: many staged files made current together (POST /v1/batch). Their fsyncs run at once (seal,
 * on the libuv pool; ext4 joins concurrent fsyncs into few journal commits), then under one lock of all
 * their paths: preconditions, renames, ONE SQLite transaction recording them all, one fsync per folder; only
 * then do they count as committed. DESIGN.md §Commit protocol gives the order and why a power cut at any point
 * leaves no torn file and loses no acknowledged one. It does not parse requests: routes/batch.ts does.
 */
import type { ManifestEntry } from '@deltabox/protocol';
import type { KeptSet } from './history/version-keeper.js';
import type { FolderMemo, Placement, StagedFile } from './storage/storage.js';
import { ApiError } from './api-error.js';
import { ancestorsOf } from './path-lock.js';
import { refreshPath } from './disk-check.js';
import { NOTHING_KEPT, putSteps, type Mirror, type Step, type WriteOptions } from './mirror.js';

/** One file of a group: `opts.executable` is required, so the file can be sealed before any lock. */
export interface GroupItem {
  path: string;
  staged: StagedFile;
  opts: WriteOptions & { executable: boolean };
}

export type GroupResult = { ok: true; entry: ManifestEntry } | { ok: false; error: unknown };

/** A file that passed its checks and is visible at its path, not yet recorded. */
interface Placed {
  index: number;
  hash: string;
  placement: Placement;
  replaced: ManifestEntry | undefined;
}

const metaOf = (item: GroupItem): { executable: boolean; mtimeMs?: number } =>
  item.opts.mtimeMs === undefined ? { executable: item.opts.executable } : { executable: item.opts.executable, mtimeMs: item.opts.mtimeMs };

/**
 * Commits `items`, one result per item in order; rejects only on an I/O fault while putting files back. An item whose hash or preconditions fail is
 * refused alone; if the one transaction fails, every file of the group is put back and each gets that error.
 * A path given twice is committed after the group, in order (the last one wins, as in sequential commits).
 * Consumes every staged file (committed or discarded).
 */
export async function commitGroup(mirror: Mirror, items: readonly GroupItem[]): Promise<GroupResult[]> {
  const results: GroupResult[] = new Array(items.length);
  try {
    const sealed = await Promise.all(items.map((item) => sealItem(item).catch((error: unknown) => ({ error }))));
    const group: number[] = [];
    const later: number[] = [];
    const paths = new Set<string>();
    for (const [i, s] of sealed.entries()) {
      if ('error' in s) results[i] = { ok: false, error: s.error };
      else if (paths.has(items[i]!.path)) later.push(i);
      else {
        paths.add(items[i]!.path);
        group.push(i);
      }
    }
    const shared = [...new Set(group.flatMap((i) => ancestorsOf(items[i]!.path)))];
    await mirror.lock.with([...paths], () => commitLocked(mirror, items, group, sealed as Array<{ hash: string }>, results), { shared });
    for (const i of later) {
      const item = items[i]!;
      results[i] = await mirror.commit(item.path, item.staged, item.opts).then(
        (entry): GroupResult => ({ ok: true, entry }),
        (error: unknown): GroupResult => ({ ok: false, error }),
      );
    }
    return results;
  } finally {
    await Promise.all(items.map((item) => item.staged.discard().catch(() => undefined)));
  }
}

/** Checks the declared hash, then seals (fsync). @throws ApiError HASH_MISMATCH; StorageError */
async function sealItem(item: GroupItem): Promise<{ hash: string }> {
  const hash = item.staged.digest();
  if (item.opts.expectedHash !== undefined && item.opts.expectedHash !== hash) {
    throw new ApiError('HASH_MISMATCH', `content hash is ${hash}, expected ${item.opts.expectedHash}`);
  }
  await item.staged.seal(metaOf(item));
  return { hash };
}

/** With every path of `group` locked: check, keep the versions replaced, place, record once, settle. */
async function commitLocked(mirror: Mirror, items: readonly GroupItem[], group: number[], sealed: Array<{ hash: string }>, results: GroupResult[]): Promise<void> {
  const checked: Array<{ index: number; replaced: ManifestEntry | undefined }> = [];
  // The group holds every folder on the way share-locked: the checks lstat each once for the group, not per
  // file. Not the placements: the lock holds off deltabox's own moves and deletes, not a folder swapped for a
  // symlink out of band while the group keeps versions, so each placement lstats its folders again just
  // before its rename (batch.test.ts "a folder swapped for a symlink after the batch checked it").
  const folders: FolderMemo = new Set();
  for (const i of group) {
    const item = items[i]!;
    try {
      const current = (await refreshPath(mirror, item.path, { folders }))?.entry;
      mirror.checkWritable(item.path, item.opts, current);
      // Same content again (an mtime or mode change): the bytes are not a past version.
      checked.push({ index: i, replaced: current?.hash !== sealed[i]!.hash ? current : undefined });
    } catch (error) {
      results[i] = { ok: false, error };
    }
  }
  const replaced = checked.flatMap((c) => (c.replaced?.type === 'file' ? [c.replaced] : []));
  let kept: KeptSet;
  try {
    kept = replaced.length > 0 ? await mirror.keeper.keep(replaced) : NOTHING_KEPT;
  } catch (error) {
    for (const c of checked) results[c.index] = { ok: false, error };
    return;
  }
  const placed: Placed[] = [];
  for (const c of checked) {
    const item = items[c.index]!;
    try {
      placed.push({ index: c.index, hash: sealed[c.index]!.hash, placement: await item.staged.place(item.path, metaOf(item)), replaced: c.replaced });
    } catch (error) {
      results[c.index] = { ok: false, error };
    }
  }
  await recordAndSettle(mirror, items, placed, kept, results);
  if (placed.some((p) => p.replaced?.hash !== undefined)) mirror.index.pruneSignatures();
}

/** One transaction for every placed file, then their folders fsynced; on a failed transaction all are undone. */
async function recordAndSettle(mirror: Mirror, items: readonly GroupItem[], placed: Placed[], kept: KeptSet, results: GroupResult[]): Promise<void> {
  const steps: Step[] = placed.flatMap((p) => putSteps(p.hash, p.placement.entry, p.placement.createdDirs, p.replaced, kept, items[p.index]!.opts.device));
  try {
    if (steps.length > 0) mirror.record(steps);
  } catch (error) {
    for (const p of [...placed].reverse()) await p.placement.undo();
    await Promise.all(placed.map((p) => p.placement.settle()));
    await kept.rollback();
    for (const p of placed) results[p.index] = { ok: false, error };
    return;
  }
  kept.release();
  // Every rename above happened before these syncs start: one fsync per folder covers them all.
  const settled = await Promise.allSettled(placed.map((p) => p.placement.settle()));
  // The answers, read in one transaction (the paths are still locked): one read lock, not one per file.
  const entries = mirror.db.transaction(() => placed.map((p) => mirror.index.get(items[p.index]!.path)!))();
  for (const [k, p] of placed.entries()) {
    const s = settled[k]!;
    results[p.index] = s.status === 'fulfilled' ? { ok: true, entry: entries[k]! } : { ok: false, error: s.reason };
  }
}
