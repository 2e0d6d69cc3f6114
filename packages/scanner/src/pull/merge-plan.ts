/**
 * Two-way reconciliation of every path (docs/SYNC.md §Reconciling one path): from the three trees (local,
 * remote, base) and the journal's moves since the last merge, the actions that bring folder and server
 * together. Pure: no I/O; pull/merge-apply.ts carries the actions out, the queue sends the pushes.
 */
import type { LocalEntry } from '../detect/change-detector.js';
import type { RemoteEntry } from '../state/state-store.js';

export type MergeAction =
  /** Both sides agree already (identical content): the base takes the remote entry. */
  | { kind: 'settle'; path: string }
  /** Both sides deleted it: the base forgets it. */
  | { kind: 'forget'; path: string }
  /** A local change to send (the queue plans the step). */
  | { kind: 'push'; path: string }
  /** Edit beats delete: the server deleted a path edited here; it is sent again as a new path. */
  | { kind: 'recreate'; path: string }
  /**
   * The local entry goes to a path another device moved it (or its folder) to, and is sent there; as a move
   * from `from` when it is this device's move of a file: a revive when the server deleted `from` since
   * (moveOverDelete), a plain move when the server still holds it unchanged.
   */
  | { kind: 'relocate'; path: string; to: string; from?: string }
  /** Both changed to different content: the local entry becomes a conflict copy, the remote one is pulled. */
  | { kind: 'conflict'; path: string; remote: RemoteEntry }
  | { kind: 'mkdir'; path: string }
  | { kind: 'download'; path: string; remote: RemoteEntry }
  /**
   * Another device renamed or moved a file this folder holds unchanged: the local file at `from` (which
   * would otherwise be deleted) is renamed to `path` instead of downloading the same bytes again.
   */
  | { kind: 'rename'; path: string; from: string; remote: RemoteEntry }
  /**
   * This device moved `from` to `path` while another device edited `from`: the edit follows the move. The
   * server's version of `from` is pulled into `path` (a delta against the moved local copy), then the move
   * is sent (the queue moves `from` to `path` on the server, the edit with it).
   */
  | { kind: 'follow'; path: string; from: string; remote: RemoteEntry }
  /**
   * Move against move, then an edit there: another device's move of the file won and the file was edited at
   * its new path since. The server's version of `path` is pulled there (a delta against the local copy at
   * `from`, which holds the base's bytes), then the local `from` is deleted. Nothing is sent.
   */
  | { kind: 'adopt'; path: string; from: string; remote: RemoteEntry }
  /**
   * A move made here (the base held the bytes at `from`, the folder now has them only at the new `path`) while
   * the server's `from` is unchanged, or deleted (then sent as a revive: moveOverDelete): sent as a move, so other devices rename too. (Pushed as two paths, a
   * move whose queued entry was dropped for a merge reached the server as a delete and a new file.)
   */
  | { kind: 'move'; path: string; from: string }
  /**
   * Move against move, where this device already holds the winning copy (it pulled it): its own moved copy at
   * `path`, new here and never sent, holds the same bytes as the file the server and this folder have at the
   * winner's path. Removed here; nothing is sent and no byte is lost.
   */
  | { kind: 'discard'; path: string }
  | { kind: 'delete'; path: string }
  | { kind: 'rmdir'; path: string }
  /**
   * Nothing now, merge again soon: a file gone from here whose bytes may be in a file new here that the scans
   * have not read yet (a folder just moved), so its deletion is not sent before a move could be found.
   */
  | { kind: 'wait'; path: string };

export interface MoveRecord {
  from: string;
  to: string;
}

export interface MergeInput {
  local: ReadonlyMap<string, LocalEntry>;
  remote: ReadonlyMap<string, RemoteEntry>;
  base: ReadonlyMap<string, RemoteEntry>;
  /** Other devices' moves since the last merge, oldest first. */
  moves: readonly MoveRecord[];
  /** Joining or an expired cursor: no base is trusted, and nothing is deleted on either side. */
  union: boolean;
  /**
   * Sources whose revive the server refused (MOVED_ELSEWHERE) and that no rule settled since: not sent as a
   * revive again (they go up as new content), so a refusal the merge cannot act on never loops.
   */
  refusedRevives?: ReadonlySet<string>;
}

type Entry = { type: string; hash?: string } | undefined;

/** Same type and, for files, same content: mtimes are never compared between devices. */
export function sameContent(a: Entry, b: Entry): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.type === b.type && (a.type === 'dir' || a.hash === b.hash);
}

/** Path segments, counted without allocating. */
function depth(path: string): number {
  let n = 1;
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) n++;
  return n;
}

/** The plan's order: shallower paths first, then by code unit. */
function pathOrder(a: string, b: string): number {
  return depth(a) - depth(b) || (a < b ? -1 : 1);
}

/**
 * One pass over the local rows (unsorted): `relocations`, the files the server lacks that differ from the base
 * (the relocate loop's only candidates); `changed`, the paths whose local or remote entry differs from the base;
 * `unread`, size and name of the files new here that no scan has read yet.
 */
function scanLocal(
  local: ReadonlyMap<string, LocalEntry>,
  remote: ReadonlyMap<string, RemoteEntry>,
  base: ReadonlyMap<string, RemoteEntry>,
): { relocations: string[]; changed: string[]; unread: Set<string> } {
  const relocations: string[] = [];
  const changed: string[] = [];
  const unread = new Set<string>();
  for (const [path, L] of local) {
    const B = base.get(path);
    const R = remote.get(path);
    const localChanged = !sameContent(L, B);
    if (localChanged || !sameContent(R, B)) changed.push(path);
    if (L.type !== 'file' || R !== undefined) continue;
    if (L.hash === undefined) {
      if (B === undefined) unread.add(`${L.size} ${baseName(path)}`);
    } else if (localChanged) {
      relocations.push(path);
    }
  }
  return { relocations, changed, unread };
}

/** `changed` (the local rows' paths from scanLocal) with the paths of the other two views that are not here. */
function changedPaths(
  changed: string[],
  local: ReadonlyMap<string, LocalEntry>,
  remote: ReadonlyMap<string, RemoteEntry>,
  base: ReadonlyMap<string, RemoteEntry>,
): string[] {
  // A path missing here differs from the base by definition: the remote entry or the base's is there.
  for (const path of remote.keys()) if (!local.has(path)) changed.push(path);
  for (const path of base.keys()) if (!local.has(path) && !remote.has(path)) changed.push(path);
  return changed;
}

/** Where `path` is now after the moves (its own or a folder's above it), or undefined when it did not move. */
export function movedTo(path: string, moves: readonly MoveRecord[]): string | undefined {
  let at = path;
  for (const m of moves) {
    if (at === m.from) at = m.to;
    else if (at.startsWith(`${m.from}/`)) at = `${m.to}${at.slice(m.from.length)}`;
  }
  return at === path ? undefined : at;
}

/**
 * The actions, in the order they must run: state-only and renames first, then folders shallow-first,
 * downloads, file deletes, folder removals deepest-first. A local entry never read (no hash yet) is left
 * for the next scan.
 */
export function planMerge(input: MergeInput): MergeAction[] {
  const { local, remote, moves, union } = input;
  const base: ReadonlyMap<string, RemoteEntry> = union ? new Map() : input.base;
  const first: MergeAction[] = [];
  const mkdirs: MergeAction[] = [];
  const downloads: MergeAction[] = [];
  const deletes: MergeAction[] = [];
  const rmdirs: MergeAction[] = [];
  const claimed = new Set<string>();
  // Each loop below visits, in path order, only the paths it may act on: sorting every path of a large folder
  // in step (100,000 files) cost more than the rest of the plan, and such a folder has none to visit. One pass
  // over the local rows finds them (and the unread files new here, below).
  const { relocations, changed, unread } = scanLocal(local, remote, base);

  // Local entries whose place moved on the server: they follow it (rename vs edit, folder rename vs add).
  const gone = deletedSources(input);
  const left = movedAwaySources(input);
  for (const path of relocations.sort(pathOrder)) {
    const L = local.get(path);
    const B = base.get(path);
    if (L?.type !== 'file' || L.hash === undefined || remote.has(path) || sameContent(L, B)) continue;
    const to = movedTo(path, moves);
    if (to === undefined || local.has(to) || claimed.has(to)) continue;
    const there = remote.get(to);
    if (B === undefined ? there !== undefined : !sameContent(there, B)) continue;
    // A file new here may be this device's move of a file deleted on the server since (moveOverDelete): it still
    // goes as that move, from its new place (before: uploaded there as new content while another mover's revive
    // brought the same file back elsewhere, shared-load seed 1205). Or of a file the server still holds unchanged
    // at its old path: then a plain move (before: uploaded as new content and the old path deleted, a new file
    // id, so another device's revive of the old path later brought it back too: shared-load seed 1206).
    const sameName = (p: string) => baseName(p) === baseName(path) && !claimed.has(p);
    const source = B === undefined ? takeClosest(gone().get(L.hash)?.filter(sameName), path) ?? takeClosest(left().get(L.hash)?.filter(sameName), path) : undefined;
    first.push(source === undefined ? { kind: 'relocate', path, to } : { kind: 'relocate', path, to, from: source });
    claimed.add(path).add(to);
    if (source !== undefined) claimed.add(source);
  }

  // Files new here, by content: the two move rules below take the ones they explain out of it.
  const fresh = newFilesByHash(input, claimed);
  first.push(...moveAgainstMove(input, fresh, claimed));
  const follows = editFollowsMove(input, fresh, claimed);
  first.push(...moveOverDelete(fresh, gone, claimed, input));

  // Name and size of the files new here that no scan has read yet: a file gone from here with the same name and
  // size may have moved there (a folder just moved), and sending its deletion now turned the move into a delete
  // and a new file (shared-load seed 1205). A file that cannot be read keeps only its own name and size waiting.
  const waiting: string[] = [];
  for (const path of changedPaths(changed, local, remote, base).sort(pathOrder)) {
    if (claimed.has(path)) continue;
    const L = local.get(path);
    const R = remote.get(path);
    const B = base.get(path);
    if (L?.type === 'file' && L.hash === undefined) continue;
    // A union merge still trusts the base where the server holds exactly what this device last agreed with
    // it: the local edit is then an ordinary push (no conflict copy of this device's own work). Deleting is
    // never inferred from it.
    if (union && L?.type === 'file' && R?.type === 'file' && !sameContent(L, R) && sameContent(R, input.base.get(path))) {
      first.push({ kind: 'push', path });
      continue;
    }
    const localChanged = !sameContent(L, B);
    const remoteChanged = !sameContent(R, B);
    if (!localChanged && !remoteChanged) continue;
    if (localChanged && !remoteChanged) {
      const mayHaveMoved = L === undefined && B?.type === 'file' && unread.has(`${B.size} ${baseName(path)}`);
      if (mayHaveMoved) waiting.push(path);
      first.push({ kind: mayHaveMoved ? 'wait' : 'push', path });
      continue;
    }
    if (!localChanged) {
      // Only the server changed: follow it.
      if (R === undefined) (L!.type === 'dir' ? rmdirs : deletes).push({ kind: L!.type === 'dir' ? 'rmdir' : 'delete', path });
      else if (L !== undefined && L.type !== R.type) first.push({ kind: 'conflict', path, remote: R });
      else (R.type === 'dir' ? mkdirs : downloads).push(R.type === 'dir' ? { kind: 'mkdir', path } : { kind: 'download', path, remote: R });
      continue;
    }
    // Both changed.
    if (sameContent(L, R)) first.push(L === undefined ? { kind: 'forget', path } : { kind: 'settle', path });
    else if (L === undefined) (R!.type === 'dir' ? mkdirs : downloads).push(R!.type === 'dir' ? { kind: 'mkdir', path } : { kind: 'download', path, remote: R! });
    else if (R === undefined) first.push({ kind: 'recreate', path });
    else if (L.type === 'dir' && R.type === 'dir') first.push({ kind: 'settle', path });
    else first.push({ kind: 'conflict', path, remote: R });
  }
  if (waiting.length > 0) {
    // A folder gone from here that holds a waiting file waits too (its removal would take the file with it).
    for (const [i, a] of first.entries()) {
      if (a.kind === 'push' && !local.has(a.path) && base.get(a.path)?.type === 'dir' && waiting.some((w) => w.startsWith(`${a.path}/`))) first[i] = { kind: 'wait', path: a.path };
    }
  }
  pairRenames(local, moves, downloads, deletes);
  deletes.sort((a, b) => depth(b.path) - depth(a.path));
  rmdirs.sort((a, b) => depth(b.path) - depth(a.path));
  return [...first, ...mkdirs, ...follows, ...downloads, ...deletes, ...rmdirs];
}

/**
 * Move here, edit there (the edit reached the server first): a file this device moved away from `source`
 * (the base held it, the folder no longer does) to a path new here holding the base's bytes, while the
 * server's `source` changed. The edit lands at the new path: a `follow` action pulls it there, then the
 * move is sent. (Without this the edit was pulled back to the old path and the moved copy sent as a new file:
 * both names on every device.) Claims both paths.
 */
function editFollowsMove(input: MergeInput, fresh: Map<string, string[]>, claimed: Set<string>): MergeAction[] {
  const { local, remote, base, union } = input;
  if (union || fresh.size === 0) return [];
  const follows: MergeAction[] = [];
  for (const [source, B] of base) {
    if (B.type !== 'file' || B.hash === undefined || local.has(source) || claimed.has(source)) continue;
    const R = remote.get(source);
    if (R?.type !== 'file' || R.hash === undefined) continue;
    const to = takeClosest(fresh.get(B.hash), source);
    if (to === undefined) continue;
    follows.push(R.hash === B.hash ? { kind: 'move', path: to, from: source } : { kind: 'follow', path: to, from: source, remote: R });
    claimed.add(source).add(to);
  }
  return follows;
}

/** The folders above `path`, deepest first. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) out.push(path.slice(0, slash));
  return out;
}

/** Local folders new here (in neither base nor remote, not claimed) whose files are all in `files`, and that hold one. */
function foldersHoldingOnly(input: MergeInput, files: ReadonlySet<string>, claimed: ReadonlySet<string>): string[] {
  const { local, remote, base } = input;
  const held = new Set<string>();
  const kept = new Set<string>();
  for (const [path, row] of local) {
    if (row.type === 'dir') continue;
    for (const dir of ancestors(path)) (files.has(path) ? held : kept).add(dir);
  }
  return [...held].filter((dir) => !kept.has(dir) && local.get(dir)?.type === 'dir' && !base.has(dir) && !remote.has(dir) && !claimed.has(dir));
}

/**
 * Move here, delete there: a file this device moved away from `source` (the base held it, the folder no longer
 * does) to a path new here with the same name and the base's bytes, while the server deleted `source`. Move
 * beats delete, and the move is sent as one (the transfer sends it as a revive, MoveRequest.revive): when
 * several devices moved the same folder before hearing of each other, the server brings each file back once,
 * at the first mover's path, and tells the others where, so they rename instead of each sending a copy
 * (before, each pushed its copy as new files: the folder in two or three places on every device). The source's
 * base is kept until the move is done. Claims both paths.
 */
function moveOverDelete(fresh: Map<string, string[]>, gone: () => ReadonlyMap<string, string[]>, claimed: Set<string>, input: MergeInput): MergeAction[] {
  if (fresh.size === 0) return [];
  const moves: MergeAction[] = [];
  for (const [hash, sources] of gone()) {
    for (const source of sources) {
      if (claimed.has(source)) continue;
      const name = baseName(source);
      const to = takeClosest(fresh.get(hash)?.filter((p) => baseName(p) === name), source);
      if (to === undefined) continue;
      removeFrom(fresh.get(hash), to);
      moves.push({ kind: 'move', path: to, from: source });
      claimed.add(source).add(to);
    }
  }
  // Folders new here that hold only these files are not sent on their own: the revives make them on the server.
  // When the server sends the files elsewhere instead, they stay local-only and are removed once the files are
  // renamed out (move against move); sent now, each would stay behind empty on every device.
  if (moves.length > 0) for (const dir of foldersHoldingOnly(input, new Set(moves.map((m) => m.path)), claimed)) claimed.add(dir);
  return moves;
}

/**
 * A download whose content a planned local delete holds (a remote rename or move, whether or not the
 * journal's move record was seen) becomes a local rename: no byte is downloaded. The journal's move is
 * preferred when several deleted files hold the same bytes. Both lists are changed in place.
 */
function pairRenames(local: ReadonlyMap<string, LocalEntry>, moves: readonly MoveRecord[], downloads: MergeAction[], deletes: MergeAction[]): void {
  const byHash = new Map<string, string[]>();
  /** Where the journal moved each deleted file: its pairing comes first. */
  const byTarget = new Map<string, string>();
  for (const d of deletes) {
    const L = local.get(d.path);
    if (L?.type !== 'file' || L.hash === undefined) continue;
    const list = byHash.get(L.hash);
    if (list === undefined) byHash.set(L.hash, [d.path]);
    else list.push(d.path);
    const to = moves.length === 0 ? undefined : movedTo(d.path, moves);
    if (to !== undefined) byTarget.set(to, d.path);
  }
  if (byHash.size === 0) return;
  const renamed = new Set<string>();
  for (let i = 0; i < downloads.length; i++) {
    const d = downloads[i]!;
    // Only into a free path: a download over a local file (an overwriting move) stays a download.
    if (d.kind !== 'download' || d.remote.hash === undefined || local.has(d.path)) continue;
    let from = byTarget.get(d.path);
    if (from === undefined || renamed.has(from) || local.get(from)?.hash !== d.remote.hash) {
      // Any deleted file with the same bytes (used ones are dropped as they surface: linear overall).
      const list = byHash.get(d.remote.hash);
      while (list !== undefined && list.length > 0 && renamed.has(list[list.length - 1]!)) list.pop();
      from = list?.pop();
    }
    if (from === undefined) continue;
    downloads[i] = { kind: 'rename', path: d.path, from, remote: d.remote };
    renamed.add(from);
  }
  if (renamed.size === 0) return;
  const kept = deletes.filter((d) => !renamed.has(d.path));
  deletes.length = 0;
  deletes.push(...kept);
}

/**
 * The base's files gone from both sides (deleted on the server, moved away here), by content hash, built on
 * first use: the sources a move here over a delete there may revive. None in a union merge; never a source
 * whose revive the server refused.
 */
function deletedSources(input: MergeInput): () => ReadonlyMap<string, string[]> {
  const { local, remote, base, union } = input;
  let byHash: Map<string, string[]> | undefined;
  return () => (byHash ??= union ? new Map() : filesByHash(base, (p) => !local.has(p) && !remote.has(p) && input.refusedRevives?.has(p) !== true));
}

/**
 * The base's files gone from here that the server still holds unchanged (this device moved them away), by
 * content hash, built on first use. None in a union merge.
 */
function movedAwaySources(input: MergeInput): () => ReadonlyMap<string, string[]> {
  const { local, remote, base, union } = input;
  let byHash: Map<string, string[]> | undefined;
  return () => (byHash ??= union ? new Map() : filesByHash(base, (p) => !local.has(p) && sameContent(remote.get(p), base.get(p))));
}

/** Files new here (in neither the base nor the remote view, not claimed), by content hash. */
function newFilesByHash(input: MergeInput, claimed: ReadonlySet<string>): Map<string, string[]> {
  const { local, remote, base } = input;
  return filesByHash(local, (path) => !base.has(path) && !remote.has(path) && !claimed.has(path));
}

/** Paths of the files in `rows` that `keep` accepts, by content hash. */
function filesByHash(rows: ReadonlyMap<string, { type: string; hash?: string }>, keep: (path: string) => boolean): Map<string, string[]> {
  const byHash = new Map<string, string[]>();
  for (const [path, row] of rows) {
    if (row.type !== 'file' || row.hash === undefined || !keep(path)) continue;
    const list = byHash.get(row.hash);
    if (list === undefined) byHash.set(row.hash, [path]);
    else list.push(path);
  }
  return byHash;
}

/** Files new on the server (not in base) that this device lacks, by hash. */
function arrivedByHash(input: MergeInput, claimed: ReadonlySet<string>): Map<string, string[]> {
  const { local, remote, base } = input;
  return filesByHash(remote, (path) => !base.has(path) && !local.has(path) && !claimed.has(path));
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function removeFrom(list: string[] | undefined, item: string): void {
  const at = list?.indexOf(item) ?? -1;
  if (at >= 0) list!.splice(at, 1);
}

/**
 * Removes and returns the candidate whose path ends most like `source` (a folder's files keep their names),
 * looking at a bounded few: many files with the same bytes (empty ones) keep this linear.
 */
function takeClosest(candidates: string[] | undefined, source: string): string | undefined {
  if (candidates === undefined || candidates.length === 0) return undefined;
  let at = 0;
  for (let i = 1; i < Math.min(candidates.length, 64); i++) if (commonSuffix(candidates[i]!, source) > commonSuffix(candidates[at]!, source)) at = i;
  const taken = candidates[at]!;
  candidates[at] = candidates[candidates.length - 1]!;
  candidates.pop();
  return taken;
}

function commonSuffix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

/**
 * Move against move: this device moved a file (or its folder) while another device moved the same file
 * elsewhere, and that move reached the server first. The server's move wins: the local file is renamed to
 * the server's path (no download, nothing sent), so the folder is not duplicated on every device; when the
 * file was edited at the server's path since, the edit is pulled there instead (`adopt`). Found by content: the
 * base held the bytes at the source, neither side still has the source, the journal moved the source to a
 * file this device lacks (or, with no move in the journal, a file of the same name and bytes arrived on the
 * server that this device lacks: the other move went up as a delete and a new file), and a file new here (not in base or remote) holds the base's bytes (the one whose path ends most like the source's, for a folder's files). Local folders left
 * empty by these renames are removed (only if empty). Claims the paths it plans for.
 */
function moveAgainstMove(input: MergeInput, fresh: Map<string, string[]>, claimed: Set<string>): MergeAction[] {
  const { local, remote, base, moves, union } = input;
  if (union || fresh.size === 0) return [];
  const arrived = arrivedByHash(input, claimed);
  const renames: MergeAction[] = [];
  const renamedFrom = new Set<string>();
  for (const [source, B] of base) {
    if (B.type !== 'file' || B.hash === undefined || local.has(source) || remote.has(source)) continue;
    let to = movedTo(source, moves);
    let from: string | undefined;
    if (to === undefined) {
      // No move in the journal: the other device's move may have reached the server as a delete and a new file
      // (its own move refused, or dropped for a merge). Inferred only where both sides kept the file's name.
      const name = baseName(source);
      const sameName = (paths: string[] | undefined): string[] | undefined => paths?.filter((p) => baseName(p) === name);
      const candidates = sameName(fresh.get(B.hash));
      if (candidates === undefined || candidates.length === 0) continue;
      to = takeClosest(sameName(arrived.get(B.hash)), source);
      if (to === undefined) continue;
      from = takeClosest(candidates, source);
      if (from !== undefined) removeFrom(fresh.get(B.hash), from);
      removeFrom(arrived.get(B.hash), to);
    }
    const there = remote.get(to);
    if (there?.type !== 'file' || there.hash === undefined || claimed.has(to)) continue;
    // Already pulled to the winner's path here: only the same bytes there let this device's copy go.
    const pulled = local.get(to);
    if (pulled !== undefined && !(pulled.type === 'file' && pulled.hash === B.hash && there.hash === B.hash)) continue;
    from ??= takeClosest(fresh.get(B.hash), source);
    if (from === undefined) continue;
    if (pulled !== undefined) {
      // Before, the local copy went up again and again as a revive the server refused (MOVED_ELSEWHERE), the
      // merge never renaming it onto a path this folder already held (shared-load seed 1202, a merge every 70 ms).
      renames.push({ kind: 'discard', path: from });
      claimed.add(from);
      renamedFrom.add(from);
      continue;
    }
    // Edited at the server's path since the move (a shared folder keeps changing): the edit is pulled there
    // instead of a rename (before this the local copy went up as a new file: the folder twice on every device).
    renames.push({ kind: there.hash === B.hash ? 'rename' : 'adopt', path: to, from, remote: there });
    claimed.add(from).add(to);
    renamedFrom.add(from);
  }
  if (renamedFrom.size === 0) return renames;
  // Local-only folders that held renamed files and no other file: removed once empty, deepest first, never
  // sent. A folder that also holds anything else (or that this device made empty) is left alone.
  const emptied = foldersHoldingOnly(input, renamedFrom, claimed);
  emptied.sort((a, b) => depth(b) - depth(a));
  for (const path of emptied) claimed.add(path);
  return [...renames, ...emptied.map((path): MergeAction => ({ kind: 'rmdir', path }))];
}
