/**
 * Brings the remote view forward by the server's change journal (`GET /v1/changes?since=`) instead of a
 * whole manifest. Pure bookkeeping on SyncState: it does no I/O itself, and it says `false` whenever the
 * journal alone cannot give the exact server state, so the caller falls back to the manifest.
 */
import type { ChangeRecord } from '@deltabox/protocol';
import { isUnder, type SyncState } from '../state/sync-state.js';

/**
 * mtime of a remote file a journal record told us about: the journal carries no mtime or executable bit.
 * No local file has it, so the plan sees the entry as out of step; if the content already matches, the
 * correction is a tiny all-copy delta that sets both.
 */
export const UNKNOWN_MTIME_MS = -1;

/**
 * This scanner's own writes by revision: what each recorded (`ownWrite(op, path)`), from the write's answer.
 * A write the server already held (a folder that was there, the same content again) is answered with the
 * revision of the record that made it so, which may be another device's: a move of that folder, say. Keyed by
 * revision alone, that move was taken for ours and never applied to the view (shared-load seed 1201: a
 * device at rest, "up to date", without two entries of a folder another device had moved).
 */
export type OwnWrites = ReadonlyMap<number, string>;

/** The key of an own write in OwnWrites. */
export function ownWrite(op: ChangeRecord['op'], path: string): string {
  return `${op} ${path.normalize('NFC')}`;
}

/** Whether journal record `c` is one of this scanner's own writes (its revision, op and path). */
export function isOwnRecord(own: OwnWrites, c: ChangeRecord): boolean {
  const key = own.get(c.revision);
  return key !== undefined && key === ownWrite(c.op, c.path);
}

/**
 * Applies the journal records newer than the view, oldest first. This scanner's own writes (`isOwnRecord`),
 * already recorded from their answers, are skipped.
 * Returns false (the view is then partly updated: replace it from the manifest) when a record cannot be
 * applied exactly: a move from a path the view does not hold, a put without a hash, or another writer's
 * change that landed before one of ours on a path that one touched (applying it now would undo ours in the
 * view). Another writer's change before ours on other paths commutes with ours and is applied: under load
 * (16 devices on one folder) nearly every page holds one, and each cost a whole manifest.
 */
export function applyJournal(state: SyncState, changes: readonly ChangeRecord[], own: OwnWrites): boolean {
  const ownRecords = changes.filter((c) => isOwnRecord(own, c));
  const lastOwn = ownRecords.length === 0 ? -1 : ownRecords[ownRecords.length - 1]!.revision;
  for (const c of changes) {
    if (isOwnRecord(own, c)) continue;
    const path = c.path.normalize('NFC');
    // Parent folders a write of ours created get their own revisions, which no response reports.
    if (c.op === 'mkdir' && state.remote.get(path)?.type === 'dir') continue;
    if (c.revision < lastOwn && ownRecords.some((o) => o.revision > c.revision && overlaps(c, o))) return false;
    if (!applyOne(state, c, path)) return false;
  }
  return true;
}

/** Paths a record changes in the view: its path (and subtree) and, for a move, its source (and subtree). */
function touched(c: ChangeRecord): string[] {
  const path = c.path.normalize('NFC');
  return c.from === undefined ? [path] : [path, c.from.normalize('NFC')];
}

/**
 * Whether applying `foreign` after own record `mine` (which the server ordered after it) could change what
 * `mine` left in the view: any path of one is, or is above or below, a path of the other. A mkdir only adds
 * its folder (it replaces a file at that very path), so it commutes with own writes below it.
 */
function overlaps(foreign: ChangeRecord, mine: ChangeRecord): boolean {
  const theirs = touched(foreign);
  for (const b of touched(mine)) {
    for (const a of theirs) {
      if (foreign.op === 'mkdir' ? isUnder(a, b) : isUnder(b, a) || isUnder(a, b)) return true;
    }
  }
  return false;
}

function applyOne(state: SyncState, c: ChangeRecord, path: string): boolean {
  switch (c.op) {
    case 'put':
      if (c.hash === undefined) return false;
      state.deleteRemoteTree(path);
      state.setRemote({ path, type: 'file', size: c.size ?? 0, mtimeMs: UNKNOWN_MTIME_MS, hash: c.hash, executable: false });
      return true;
    case 'delete':
    case 'rmdir':
      state.deleteRemoteTree(path);
      return true;
    case 'mkdir':
      // A folder replaces a file at its path, never what the view already holds below it: a server before
      // 2026-12-02 could journal a file before the mkdir of its folder (writes racing into one new folder).
      if (state.remote.get(path)?.type === 'file') state.deleteRemoteTree(path);
      state.setRemote({ path, type: 'dir', size: 0, mtimeMs: 0, executable: false });
      return true;
    case 'move': {
      const from = c.from?.normalize('NFC');
      const source = from === undefined ? undefined : state.remote.get(from);
      if (from === undefined || source === undefined) return false;
      // A rename keeps mtime and mode, so the moved rows stay exact.
      state.moveRemote(from, path, { ...source, path });
      return true;
    }
    default:
      return false;
  }
}
