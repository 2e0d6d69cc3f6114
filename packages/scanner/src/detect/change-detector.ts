/**
 * The change detector, pure: compares a walk of the client folder with the entries recorded at the last
 * scan (quick check on size, mtime, inode and mode) and, once the caller has hashed what changed, turns
 * the difference into changes to queue, renames found by content hash. No I/O, no clock: time is passed in.
 */
import { RACY_WINDOW_MS } from '../constants.js';
import type { WalkResult, WalkedEntry } from './tree-walk.js';

/** An entry as recorded by the last scan: the walk plus the content hash of files. */
export interface LocalEntry extends WalkedEntry {
  /** SHA-256 hex; set for files, absent for folders. */
  hash?: string;
  /** Recorded within RACY_WINDOW_MS of its mtime: hash again next scan even if the stat is unchanged. */
  racy: boolean;
}

/**
 * A changed entry after hashing: files carry `hash`. classifyChanges sets `racy` on it and records it as the
 * row itself (not a copy: a first sync has 100,000 of them).
 */
export type HashedEntry = WalkedEntry & { hash?: string; racy?: boolean };

export interface ScanPlan {
  /** Entries whose stat changed or that are new: files among them must be hashed. */
  changed: WalkedEntry[];
  /** Recorded entries that are gone from the folder. */
  removed: LocalEntry[];
}

export type ChangeKind = 'added' | 'modified' | 'removed' | 'moved';

export interface Change {
  kind: ChangeKind;
  path: string;
  /** For `moved`: where the content was before. */
  from?: string;
}

export interface ScanOutcome {
  /** Rows to write into the local table (new or changed entries). */
  upserts: LocalEntry[];
  /** Rows to delete from the local table. */
  deletes: string[];
  /** What the server must be told, in a safe order: folders, moves, files, then removals. */
  changes: Change[];
}

function isUnder(path: string, dir: string): boolean {
  return dir === '' || path.startsWith(`${dir}/`);
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** True when the quick check says `entry` may differ from what `prev` recorded. */
export function statChanged(prev: LocalEntry, entry: WalkedEntry): boolean {
  if (prev.type !== entry.type) return true;
  if (entry.type === 'dir') return false;
  return (
    prev.hash === undefined ||
    prev.racy ||
    prev.size !== entry.size ||
    prev.mtimeMs !== entry.mtimeMs ||
    prev.ino !== entry.ino ||
    prev.mode !== entry.mode
  );
}

/** Step 1: what needs hashing and what disappeared. */
export function planScan(prev: ReadonlyMap<string, LocalEntry>, walk: WalkResult): ScanPlan {
  const changed: WalkedEntry[] = [];
  for (const entry of walk.entries.values()) {
    const before = prev.get(entry.path);
    if (before === undefined || statChanged(before, entry)) changed.push(entry);
  }
  const removed: LocalEntry[] = [];
  const unreadable = [...walk.unreadableDirs];
  for (const before of prev.values()) {
    if (walk.entries.has(before.path)) continue;
    if (unreadable.some((dir) => isUnder(before.path, dir))) continue;
    removed.push(before);
  }
  return { changed, removed };
}

/** Whether `a` and `b` need the server to hear about it (content, type, executable bit or whole-ms mtime). */
export function differsForServer(a: LocalEntry, b: LocalEntry): boolean {
  if (a.type !== b.type) return true;
  if (a.type === 'dir') return false;
  return (
    a.hash !== b.hash ||
    (a.mode & 0o111) !== 0 !== ((b.mode & 0o111) !== 0) ||
    Math.trunc(a.mtimeMs) !== Math.trunc(b.mtimeMs)
  );
}

/**
 * Step 2: `hashed` are the `changed` entries the caller could read (files with `hash` set; folders as is;
 * a file that could not be read is left out and keeps its old row). `scanStartMs` decides raciness, which is
 * set on each hashed entry: they become the upserted rows, and belong to the outcome from then on.
 */
export function classifyChanges(
  prev: ReadonlyMap<string, LocalEntry>,
  hashed: readonly HashedEntry[],
  removed: readonly LocalEntry[],
  scanStartMs: number,
): ScanOutcome {
  const upserts: LocalEntry[] = [];
  const added: Change[] = [];
  const addedDirs: Change[] = [];
  const newFiles: LocalEntry[] = [];
  for (const entry of hashed) {
    // Only an mtime near "now" can be produced again by a later write; one far in the past or future cannot.
    const row = entry as LocalEntry;
    row.racy = entry.type === 'file' && Math.abs(scanStartMs - entry.mtimeMs) < RACY_WINDOW_MS;
    upserts.push(row);
    const before = prev.get(entry.path);
    if (before === undefined) {
      if (row.type === 'dir') addedDirs.push({ kind: 'added', path: row.path });
      else newFiles.push(row);
    } else if (differsForServer(before, row)) {
      added.push({ kind: 'modified', path: row.path });
    }
  }

  // Renames: a new file whose content is a removed file's. Empty files are excluded: all share one hash
  // and creating one costs nothing.
  const removedByHash = new Map<string, LocalEntry[]>();
  for (const gone of removed) {
    if (gone.type !== 'file' || gone.hash === undefined || gone.size === 0) continue;
    const list = removedByHash.get(gone.hash) ?? [];
    list.push(gone);
    removedByHash.set(gone.hash, list);
  }
  const moves: Change[] = [];
  const movedFrom = new Set<string>();
  for (const row of newFiles) {
    const source = row.hash === undefined ? undefined : removedByHash.get(row.hash)?.shift();
    if (source) {
      moves.push({ kind: 'moved', path: row.path, from: source.path });
      movedFrom.add(source.path);
    } else {
      added.push({ kind: 'added', path: row.path });
    }
  }

  // Removals: only the topmost removed entry is sent (a folder delete is recursive), except move sources,
  // which the move itself takes away.
  const removedPaths = new Set(removed.map((r) => r.path));
  const removals: Change[] = [];
  const removedDirs: Change[] = [];
  for (const gone of removed) {
    if (movedFrom.has(gone.path)) continue;
    if (removedPaths.has(parentOf(gone.path)) && parentOf(gone.path) !== '') continue;
    (gone.type === 'dir' ? removedDirs : removals).push({ kind: 'removed', path: gone.path });
  }

  const depth = (c: Change) => c.path.split('/').length;
  addedDirs.sort((a, b) => depth(a) - depth(b));
  removedDirs.sort((a, b) => depth(b) - depth(a));
  const outcome: ScanOutcome = {
    upserts,
    deletes: [...removedPaths],
    changes: [...addedDirs, ...moves, ...added, ...removals, ...removedDirs],
  };
  return foldFolderRenames(outcome, prev, removed);
}

/**
 * A renamed folder keeps its inode: a new topmost folder with the inode of a removed topmost folder is
 * sent as one server-side move of the whole tree instead of one move per file. Changes the move makes
 * unnecessary are dropped (the folder's own creation, same-path file moves and sub-folders, the old
 * folder's removal); files that were not carried along are queued for removal at their new path.
 */
function foldFolderRenames(outcome: ScanOutcome, prev: ReadonlyMap<string, LocalEntry>, removed: readonly LocalEntry[]): ScanOutcome {
  const removedPaths = new Set(removed.map((r) => r.path));
  const sourcesByIno = new Map<number, LocalEntry>();
  for (const gone of removed) {
    if (gone.type === 'dir' && !removedPaths.has(parentOf(gone.path))) sourcesByIno.set(gone.ino, gone);
  }
  if (sourcesByIno.size === 0) return outcome;
  const rows = new Map(outcome.upserts.map((u) => [u.path, u]));
  const pairs: Array<{ to: string; from: string }> = [];
  for (const change of outcome.changes) {
    const row = rows.get(change.path);
    if (change.kind !== 'added' || row?.type !== 'dir' || (rows.has(parentOf(change.path)) && !prev.has(parentOf(change.path)))) continue;
    const source = sourcesByIno.get(row.ino);
    if (source === undefined) continue;
    sourcesByIno.delete(row.ino);
    pairs.push({ to: change.path, from: source.path });
  }
  if (pairs.length === 0) return outcome;
  const within = (path: string, dir: string) => path.startsWith(`${dir}/`);
  const relocate = (path: string, pair: { to: string; from: string }) => `${pair.from}${path.slice(pair.to.length)}`;
  const pairOf = (path: string) => pairs.find((p) => p.to === path || within(path, p.to));
  const kept: Change[] = [];
  for (const change of outcome.changes) {
    if (pairs.some((p) => p.to === change.path || (change.kind === 'removed' && p.from === change.path))) continue;
    const pair = pairOf(change.path);
    if (pair === undefined) {
      kept.push(change);
      continue;
    }
    const counterpart = prev.get(relocate(change.path, pair));
    if (change.kind === 'moved') {
      if (change.from === relocate(change.path, pair)) continue; // carried along by the folder move
      // A move inside the renamed tree would wait for the folder move while blocking it: after the folder
      // move the file is compared (and patched if needed) in place instead.
      if (within(change.from!, pair.from)) kept.push({ kind: 'added', path: change.path });
      else kept.push(change);
      continue;
    }
    if (change.kind === 'added' && rows.get(change.path)?.type === 'dir' && counterpart?.type === 'dir') continue;
    kept.push(change);
  }
  const folderMoves: Change[] = pairs.map((p) => ({ kind: 'moved', path: p.to, from: p.from }));
  const leftBehind: Change[] = [];
  for (const pair of pairs) {
    for (const before of prev.values()) {
      if (!within(before.path, pair.from)) continue;
      const target = `${pair.to}${before.path.slice(pair.from.length)}`;
      if (!rows.has(target)) leftBehind.push({ kind: 'removed', path: target });
    }
  }
  return { ...outcome, changes: [...folderMoves, ...kept, ...leftBehind] };
}
