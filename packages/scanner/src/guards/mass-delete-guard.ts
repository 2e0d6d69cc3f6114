/**
 * The mass-delete guard (rclone's --max-delete, Syncthing's "folder marker missing"): a scan pass or a
 * reconcile that would delete more than a set share of the server's files stops before queueing any of
 * those deletes, and says how to confirm. An emptied client folder (an unmounted drive, a wrong --cdir, a
 * fresh state against a full server) then costs nothing. Pure: counts and throws, no I/O.
 */
import type { LocalEntry } from '../detect/change-detector.js';
import { MASS_DELETE_MIN_FILES } from '../constants.js';
import { ScannerError } from '../errors.js';
import type { RemoteEntry } from '../state/state-store.js';

export interface MassDeleteLimit {
  /** Largest share of the server's files one pass may delete, in percent (0–100). */
  maxDeletePercent: number;
  /** The user confirmed: no limit. */
  allowMassDelete: boolean;
}

/** True when `path` or one of its ancestor folders is in `sources` (its content moves rather than goes). */
function movesAway(path: string, sources: ReadonlySet<string>): boolean {
  if (sources.size === 0) return false;
  for (let p = path; ; ) {
    if (sources.has(p)) return true;
    const slash = p.lastIndexOf('/');
    if (slash < 0) return false;
    p = p.slice(0, slash);
  }
}

/**
 * How many of the server's files the client no longer has among `candidates` (paths; folders count the
 * files below them through the candidates list), not counting those whose content a move carries away.
 */
export function countPlannedDeletes(
  remote: ReadonlyMap<string, RemoteEntry>,
  local: { get(path: string): LocalEntry | undefined },
  candidates: Iterable<string>,
  moveSources: ReadonlySet<string>,
): number {
  let n = 0;
  for (const path of candidates) {
    if (remote.get(path)?.type !== 'file' || local.get(path)?.type === 'file') continue;
    if (!movesAway(path, moveSources)) n++;
  }
  return n;
}

/** Sources of the queued moves: what they carry away is not deleted. */
export function queuedMoveSources(entries: Iterable<{ kind: string; from?: string }>, into = new Set<string>()): Set<string> {
  for (const e of entries) if (e.kind === 'move' && e.from !== undefined) into.add(e.from);
  return into;
}

/** Files the server holds (folders not counted). */
export function countRemoteFiles(remote: ReadonlyMap<string, RemoteEntry>): number {
  let n = 0;
  for (const row of remote.values()) if (row.type === 'file') n++;
  return n;
}

/**
 * Throws when deleting `deletes` of the server's `serverFiles` files is over the limit. A server holding
 * MASS_DELETE_MIN_FILES files or fewer is not guarded (deleting 3 of 4 files is an ordinary edit), except on
 * a client folder's first sync: a folder that never synced and would delete most of a small server's files
 * is far more likely the wrong folder (an empty mount point, a mistyped --cdir that `run` created) than a
 * wish, so there the share alone decides.
 * @throws ScannerError MASS_DELETE
 */
export function assertDeleteShare(deletes: number, serverFiles: number, limit: MassDeleteLimit, firstSync = false): void {
  if (limit.allowMassDelete || deletes === 0) return;
  if (!firstSync && serverFiles <= MASS_DELETE_MIN_FILES) return;
  const percent = (deletes * 100) / serverFiles;
  if (percent <= limit.maxDeletePercent) return;
  throw new ScannerError(
    'MASS_DELETE',
    `stopping: this pass would delete ${deletes} of the server's ${serverFiles} files (${Math.round(percent)}%, over the ` +
      `${limit.maxDeletePercent}% limit${firstSync ? ', on this client folder\'s first sync' : ''}); nothing was deleted. ` +
      'If the client folder is on a drive that is not mounted, mount it. If the deletions are intended, run again with ' +
      '--allow-mass-delete (or raise --max-delete PERCENT)',
  );
}

/**
 * Two-way sync: throws when a merge would delete `deletes` of this folder's `localFiles` files, over the
 * limit (the same rule as the server side, for deletes another device's changes would make here).
 * @throws ScannerError MASS_DELETE
 */
export function assertLocalDeleteShare(deletes: number, localFiles: number, limit: MassDeleteLimit): void {
  if (limit.allowMassDelete || deletes === 0 || localFiles <= MASS_DELETE_MIN_FILES) return;
  const percent = (deletes * 100) / localFiles;
  if (percent <= limit.maxDeletePercent) return;
  throw new ScannerError(
    'MASS_DELETE',
    `stopping: the server's changes would delete ${deletes} of this folder's ${localFiles} files (${Math.round(percent)}%, over the ` +
      `${limit.maxDeletePercent}% limit); nothing was deleted. If another device's folder was emptied by mistake, restore it there. ` +
      'If the deletions are intended, run again with --allow-mass-delete (or raise --max-delete PERCENT)',
  );
}
