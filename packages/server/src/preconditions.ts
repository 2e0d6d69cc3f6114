/**
 * The preconditions of a write (docs/API.md §Consistency guarantees), checked before a body is read and again
 * under the path lock: what stands at the path (TYPE_CONFLICT), whether a folder on the way moved since the
 * device's view (PARENT_CHANGED), and the base (If-Match / If-None-Match: BASE_MISMATCH with the entry there
 * now). Equal content is not a conflict: callers compare it first (sameContent, sameMetadata) and skip the base.
 */
import type { ManifestEntry } from '@deltabox/protocol';
import { ApiError } from './api-error.js';
import type { Journal } from './state/journal.js';

/** The precondition parts of a write's options (mirror.ts WriteOptions). */
export interface Preconditions {
  /** Base content hash the write was computed against (If-Match). */
  ifMatch?: string;
  /** Create only (If-None-Match: *). */
  ifNoneMatch?: boolean;
  /** Journal revision of the device's view (x-deltabox-since). */
  since?: number;
}

/** 412 BASE_MISMATCH carrying the entry at `path` now (none when nothing is there). */
export function baseMismatch(path: string, current: ManifestEntry | undefined, wanted: string): ApiError {
  const msg = current ? `'${path}' is at ${current.hash ?? 'a folder'}, not ${wanted}` : `'${path}' does not exist, not at ${wanted}`;
  const extra = current === undefined ? {} : current.hash === undefined ? { current } : { current, currentHash: current.hash };
  return new ApiError('BASE_MISMATCH', msg, extra);
}

/**
 * A folder at `path` (TYPE_CONFLICT), or a folder on the way moved or removed after `since` (PARENT_CHANGED).
 * @throws ApiError TYPE_CONFLICT, PARENT_CHANGED
 */
export function checkPlace(journal: Journal, path: string, current: ManifestEntry | undefined, opts: Preconditions): void {
  if (current?.type === 'dir') throw new ApiError('TYPE_CONFLICT', `'${path}' is a folder`);
  checkParents(journal, [path], opts.since);
}

/** PARENT_CHANGED when a folder on the way to any of `paths` was moved or removed after `since`. */
export function checkParents(journal: Journal, paths: string[], since: number | undefined): void {
  if (since === undefined) return;
  for (const path of paths) {
    const record = journal.ancestorChangedSince(path, since);
    if (!record) continue;
    const what = record.op === 'move' ? `moved to '${record.path}'` : 'removed';
    const where = record.op === 'move' ? record.from! : record.path;
    throw new ApiError('PARENT_CHANGED', `'${where}' on the way to '${path}' was ${what} at revision ${record.revision}, after ${since}; pull the changes and retry`, { record });
  }
}

/** If-None-Match and If-Match against the entry at `path` now. @throws ApiError BASE_MISMATCH */
export function checkBase(path: string, current: ManifestEntry | undefined, opts: Preconditions): void {
  if (opts.ifNoneMatch && current) throw baseMismatch(path, current, 'nothing (create only)');
  if (opts.ifMatch !== undefined && current?.hash !== opts.ifMatch) throw baseMismatch(path, current, opts.ifMatch);
}

/** Whether a write of `mtimeMs`/`executable` (absent: keep) would leave `current`'s metadata as it is. */
export function sameMetadata(current: ManifestEntry, opts: { mtimeMs?: number; executable?: boolean }): boolean {
  // The index holds whole milliseconds toward zero (storage.ts CommitMeta): compare in that unit.
  if (opts.mtimeMs !== undefined && Math.trunc(opts.mtimeMs) !== current.mtimeMs) return false;
  return opts.executable === undefined || opts.executable === (current.executable ?? false);
}
