/**
 * The two views the scanner reconciles, in memory and written through to the state store: `local` (what
 * the last scan saw in the client folder) and `remote` (what the server acknowledged). Plain bookkeeping:
 * no I/O besides the store, no decisions.
 */
import type { ManifestEntry } from '@deltabox/protocol';
import type { LocalEntry, ScanOutcome } from '../detect/change-detector.js';
import type { RemoteEntry, StateStore } from './state-store.js';
import { sameContent } from '../pull/merge-plan.js';

/** A manifest line or write response as a remote row. */
export function remoteOf(entry: ManifestEntry): RemoteEntry {
  const row: RemoteEntry = {
    path: entry.path.normalize('NFC'),
    type: entry.type,
    size: entry.size,
    mtimeMs: entry.mtimeMs,
    executable: entry.executable === true,
  };
  if (entry.hash !== undefined) row.hash = entry.hash;
  return row;
}

/** `path` is `dir` or lies below it. */
export function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

export class SyncState {
  readonly local: Map<string, LocalEntry>;
  readonly remote: Map<string, RemoteEntry>;
  /** Two-way sync's synced tree (docs/SYNC.md): per path, what local and server last agreed on. */
  readonly base: Map<string, RemoteEntry>;
  readonly #store: StateStore;
  #localWrites = 0;

  constructor(store: StateStore) {
    this.#store = store;
    this.local = store.loadLocal();
    this.remote = store.loadRemote();
    this.base = store.loadBase(this.remote);
  }

  setBase(row: RemoteEntry): void {
    this.base.set(row.path, row);
    this.#store.upsertBase(row);
  }

  deleteBase(path: string): void {
    if (!this.base.delete(path)) return;
    this.#store.deleteBase(path);
  }

  /** Forgets the whole base (the device joins another server folder: nothing was agreed with it). */
  clearBase(): void {
    this.transaction(() => {
      for (const path of [...this.base.keys()]) this.deleteBase(path);
    });
  }

  /**
   * The base after a queued path was brought in step with the server (`pushed`: a write of ours was
   * acknowledged; otherwise the server already held what the folder has, and only a path whose two sides agree
   * is settled). The path's own row takes the remote view's. A move's source is settled only when the server no
   * longer holds it (this device's move was made, or had been): a queued folder move that went up as a new
   * folder and single files (its source still in the folder here) dropped the base rows of files other devices
   * had moved out of the source, so their copies here went up as new files and the move-against-move rule
   * never saw them (shared-load seed 1204: three conflict copies in two places). `keep`: base rows to leave
   * alone (the sources of queued revives).
   */
  settlePushed(path: string, from: string | undefined, pushed: boolean, keep: (path: string) => boolean = () => false): void {
    const moved = from !== undefined && !this.remote.has(from);
    for (const p of moved ? [path, from] : [path]) {
      if (!pushed && !sameContent(this.local.get(p), this.remote.get(p))) continue;
      // The rows below go with it only where the server's tree changed as a whole: moved here or away, or removed.
      this.settleBase(p, { tree: moved || !this.remote.has(p), keep });
    }
  }

  /**
   * The base takes the remote view's row at `path` (dropped when the remote view has none). `tree`: the rows
   * below a folder too, and rows below that the remote view no longer has are dropped, except those `keep`
   * names. A folder that merely exists on both sides is settled without `tree`: its rows below are the merge's
   * (settling them took another device's unmerged edit below into the base, and the next merge sent this
   * device's older copy over it as a local edit).
   */
  settleBase(path: string, opts: { tree: boolean; keep?: (path: string) => boolean } = { tree: true }): void {
    const keep = opts.keep ?? (() => false);
    const tree = opts.tree && (this.remote.get(path)?.type === 'dir' || this.base.get(path)?.type === 'dir');
    if (!tree) {
      // A file touches its own row only: no walk over the whole base (a first sync settles every file).
      const row = this.remote.get(path);
      if (row) this.setBase(row);
      else if (!keep(path)) this.deleteBase(path);
      return;
    }
    for (const p of [...this.base.keys()]) if (isUnder(p, path) && !this.remote.has(p) && !keep(p)) this.deleteBase(p);
    for (const row of this.remote.values()) if (isUnder(row.path, path)) this.setBase(row);
  }

  /** Runs `fn` in one state transaction: many rows written for the price of one commit. */
  transaction<T>(fn: () => T): T {
    return this.#store.transaction(fn);
  }

  /**
   * How many times the local rows were written: a listing of the folder made before a write may no longer
   * agree with the rows (a merge that renamed a file here records both names), so it is not compared with them.
   */
  get localWrites(): number {
    return this.#localWrites;
  }

  applyScan(outcome: ScanOutcome): void {
    for (const path of outcome.deletes) this.deleteLocal(path);
    for (const row of outcome.upserts) this.setLocal(row);
  }

  deleteLocal(path: string): void {
    this.#localWrites++;
    this.local.delete(path);
    this.#store.deleteLocal(path);
  }

  setLocal(row: LocalEntry): void {
    this.#localWrites++;
    this.local.set(row.path, row);
    this.#store.upsertLocal(row);
  }

  setRemote(row: RemoteEntry): void {
    this.remote.set(row.path, row);
    this.#store.upsertRemote(row);
  }

  deleteRemote(path: string): void {
    this.remote.delete(path);
    this.#store.deleteRemote(path);
  }

  /** Forgets `dir` and everything under it (after a recursive folder delete). */
  deleteRemoteTree(dir: string): void {
    for (const path of [...this.remote.keys()]) if (isUnder(path, dir)) this.remote.delete(path);
    this.#store.deleteRemoteTree(dir);
  }

  /** Records a server-side move of `from` (and anything under it) to `to`. */
  moveRemote(from: string, to: string, entry: RemoteEntry): void {
    this.deleteRemoteTree(to);
    for (const [path, row] of [...this.remote]) {
      if (!isUnder(path, from)) continue;
      this.deleteRemote(path);
      this.setRemote({ ...row, path: `${to}${path.slice(from.length)}` });
    }
    this.setRemote(entry);
  }

  /** Replaces the remote view with a fresh manifest (keyed by path; the map is taken over, not copied). */
  replaceRemote(rows: Map<string, RemoteEntry>): void {
    this.remote.clear();
    for (const [path, row] of rows) this.remote.set(path, row);
    rows.clear();
    this.#store.replaceRemote(this.remote.values());
  }

  /** Content hashes of every remote file: what the basis cache may keep. */
  remoteHashes(): Set<string> {
    const hashes = new Set<string>();
    for (const row of this.remote.values()) if (row.hash !== undefined) hashes.add(row.hash);
    return hashes;
  }
}
