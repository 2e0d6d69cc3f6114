/**
 * Carries out a two-way merge plan (merge-plan.ts): pulls into the client folder through local-apply.ts,
 * makes conflict copies, and records each result in local, base (and remote) in one transaction, so what
 * was pulled is never sent back. Pushes are only queued here; the dispatcher sends them.
 */
import { conflictCopyName, utimesArg } from '@deltabox/protocol';
import { createHash, type Hash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { ScannerError } from '../errors.js';
import type { ApiClient, Download } from '../http/api-client.js';
import type { LocalEntry } from '../detect/change-detector.js';
import type { Logger } from '../logger.js';
import type { RemoteEntry } from '../state/state-store.js';
import { isUnder, type SyncState } from '../state/sync-state.js';
import { PatchApplier } from '@deltabox/core';
import { open, type FileHandle } from 'node:fs/promises';
import { LocalChangedError, PART_PREFIX, type StagedFile, deleteFile, discardStaged, partFileName, placeFile, removeEmptyDir, renameEntry, rowOf, stageFile, stageInto, stillRecorded } from './local-apply.js';
import type { MergeAction } from './merge-plan.js';
import { UNKNOWN_MTIME_MS } from './journal-catchup.js';

export interface MergeApplyDeps {
  root: string;
  tmpDir: string;
  state: SyncState;
  client: ApiClient;
  log: Logger;
  /** The device name conflict copies carry. */
  device(): string;
  /** False in pull mode: local changes stay local. */
  push(): boolean;
  enqueue(path: string): void;
  /** Queues `path` as a move from `from` (a local move whose source another device edited). */
  enqueueMove?(path: string, from: string): void;
  /** The root-identity guard, before the first local delete. @throws ScannerError UNSAFE_FOLDER */
  beforeDelete(): void;
  /** Called per downloaded file, for progress lines. */
  onPulled?(path: string, bytes: number): void;
}

export interface MergeResult {
  /** Actions that could not be applied now (a local file changed, a locked file, a server change meanwhile). */
  deferred: number;
  pulled: number;
  /** Remote renames and moves carried out as local renames (no download). */
  renamed: number;
  conflicts: number;
}

/**
 * The target bytes of a delta against the local file `basis` (`size` bytes as scanned). `written` hashes what the
 * consumer (stageInto) has taken: the applier checks the delta's SHA-256 against it instead of hashing the
 * result a second time.
 */
async function* patched(basis: FileHandle, size: number, delta: AsyncIterable<Uint8Array>, written: Hash): AsyncGenerator<Uint8Array> {
  const applier = new PatchApplier(
    {
      length: size,
      read: async (offset, length) => {
        const buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await basis.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      },
    },
    {},
    { consumerSha256: () => written.copy().digest('hex') },
  );
  yield* applier.apply(delta);
}

/** Whole downloads from this size on are written to a part file kept across a cut connection, and resumed. */
export const RESUME_MIN_BYTES = 1 << 20;

/** Downloads of one merge in flight at once (requests, writes and fsyncs overlap; the server answers each alone). */
export const DOWNLOAD_CONCURRENCY = 4;

/** The actions MergeApplier.#bookkeep carries out: state rows and queue entries only. */
type Bookkeeping = Extract<MergeAction, { kind: 'settle' | 'forget' | 'push' | 'recreate' | 'move' | 'wait' }>;
const BOOKKEEPING: ReadonlySet<MergeAction['kind']> = new Set(['settle', 'forget', 'push', 'recreate', 'move', 'wait']);
const isBookkeeping = (action: MergeAction): action is Bookkeeping => BOOKKEEPING.has(action.kind);

/** The same local row: same place, type, stat and content hash. */
function sameRow(a: LocalEntry | undefined, b: LocalEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.diskPath === b.diskPath && a.type === b.type && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.hash === b.hash;
}

export class MergeApplier {
  readonly #d: MergeApplyDeps;
  #rootChecked = false;
  /** The local rows the plan being applied was made from. */
  #planned: ReadonlyMap<string, LocalEntry> = new Map();

  constructor(deps: MergeApplyDeps) {
    this.#d = deps;
  }

  /**
   * Runs every action; one that fails is warned about and counted, the others go on. `planned` is the local
   * view the plan was made from (a copy, not the live map): a scan may record a local edit while the actions
   * run, and a path whose row is no longer the planned one is left to the next merge, never deleted,
   * replaced or moved on the strength of a plan that did not know the edit.
   */
  async apply(actions: readonly MergeAction[], planned: ReadonlyMap<string, LocalEntry>): Promise<MergeResult> {
    const result: MergeResult = { deferred: 0, pulled: 0, renamed: 0, conflicts: 0 };
    this.#planned = planned;
    this.#dropStaleParts(actions);
    let i = 0;
    while (i < actions.length) {
      const action = actions[i]!;
      if (action.kind === 'download') {
        // A run of downloads (each to its own path, which no other action of the plan touches) goes a few at a
        // time: one by one, each waited for its request and its fsync, and a device joining a folder of 2,000
        // small files pulled about 130 a second.
        const start = i;
        while (i < actions.length && actions[i]!.kind === 'download') i++;
        await this.#concurrently(actions.slice(start, i) as Array<Exclude<MergeAction, Bookkeeping>>, result);
        continue;
      }
      i++;
      if (!isBookkeeping(action)) {
        await this.#guarded(action, result);
        continue;
      }
      // A run of bookkeeping actions writes its rows in one transaction (a first sync queues every file).
      const run = [action];
      for (let next = actions[i]; next !== undefined && isBookkeeping(next); next = actions[++i]) run.push(next);
      this.#d.state.transaction(() => {
        for (const b of run) {
          try {
            this.#bookkeep(b, result);
          } catch (err) {
            this.#failed(b, err, result);
          }
        }
      });
    }
    return result;
  }

  /**
   * Removes the part files of cut downloads this plan no longer makes (the path was deleted or changed on the
   * server, or pulled another way): a part lives from one merge to the next, no longer.
   */
  #dropStaleParts(actions: readonly MergeAction[]): void {
    let names: string[];
    try {
      names = readdirSync(this.#d.tmpDir).filter((n) => n.startsWith(PART_PREFIX));
    } catch {
      return;
    }
    if (names.length === 0) return;
    const wanted = new Set<string>();
    for (const a of actions) {
      if (!('remote' in a) || a.remote.hash === undefined) continue;
      wanted.add(partFileName(a.path, a.remote.hash));
      if ('from' in a) wanted.add(partFileName(a.from, a.remote.hash));
    }
    for (const n of names) if (!wanted.has(n)) rmSync(join(this.#d.tmpDir, n), { force: true });
  }

  /** Runs `actions` with DOWNLOAD_CONCURRENCY at once; an error that stops the merge is rethrown once all have stopped. */
  async #concurrently(actions: ReadonlyArray<Exclude<MergeAction, Bookkeeping>>, result: MergeResult): Promise<void> {
    let next = 0;
    let fatal: unknown;
    const worker = async (): Promise<void> => {
      while (fatal === undefined && next < actions.length) {
        try {
          await this.#guarded(actions[next++]!, result);
        } catch (err) {
          fatal ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DOWNLOAD_CONCURRENCY, actions.length) }, worker));
    if (fatal !== undefined) throw fatal;
  }

  /** Runs one I/O action; one that fails is warned about and counted, except errors that stop the whole merge. */
  async #guarded(action: Exclude<MergeAction, Bookkeeping>, result: MergeResult): Promise<void> {
    try {
      await this.#one(action, result);
    } catch (err) {
      this.#failed(action, err, result);
    }
  }

  /** Counts and logs an action that failed; rethrows what stops the whole merge. */
  #failed(action: MergeAction, err: unknown, result: MergeResult): void {
    if (err instanceof ScannerError && (err.code === 'UNREACHABLE' || err.code === 'UNSAFE_FOLDER' || err.code === 'UNAUTHORIZED')) throw err;
    result.deferred++;
    const quiet = err instanceof LocalChangedError;
    this.#d.log[quiet ? 'debug' : 'warn']({ path: action.path, err: (err as Error).message }, `could not apply the server's change to ${action.path}; will retry`);
  }

  /** An action that only writes state rows and queue entries: no I/O besides the state store. */
  #bookkeep(action: Bookkeeping, result: MergeResult): void {
    const { state } = this.#d;
    const { path } = action;
    switch (action.kind) {
      case 'settle':
        state.setBase(state.remote.get(path)!);
        return;
      case 'forget':
        state.deleteBase(path);
        return;
      case 'push':
        if (this.#d.push()) this.#d.enqueue(path);
        return;
      case 'recreate':
        state.deleteBase(path);
        if (this.#d.push()) this.#d.enqueue(path);
        return;
      case 'move':
        if (this.#d.push()) this.#d.enqueueMove?.(path, action.from);
        return;
      case 'wait':
        result.deferred++;
        return;
    }
  }

  async #one(action: Exclude<MergeAction, Bookkeeping>, result: MergeResult): Promise<void> {
    const { state } = this.#d;
    const { path } = action;
    switch (action.kind) {
      case 'relocate':
        this.#plannedRow(path);
        this.#moveLocal(path, action.to);
        state.deleteBase(path);
        if (state.remote.has(action.to)) state.setBase(state.remote.get(action.to)!);
        if (this.#d.push()) {
          if (action.from === undefined) this.#d.enqueue(action.to);
          else this.#d.enqueueMove?.(action.to, action.from);
        }
        this.#d.log.info({ path, to: action.to }, `moved ${path} to ${action.to}, where another device moved it`);
        return;
      case 'conflict':
        this.#plannedRow(path);
        await this.#conflict(path, action.remote);
        result.conflicts++;
        return;
      case 'mkdir':
        this.#mkdir(path);
        return;
      case 'download':
        await this.#download(path, action.remote, this.#plannedRow(path));
        result.pulled++;
        return;
      case 'follow':
        // The server's edit of `from` into the moved local copy at `path`, then the move is queued.
        await this.#download(action.from, action.remote, this.#plannedRow(path), path);
        result.pulled++;
        if (this.#d.push()) this.#d.enqueueMove?.(path, action.from);
        this.#d.log.info({ from: action.from, path }, `${action.from} was edited on the server and moved here: the edit follows it to ${path}`);
        return;
      case 'rename':
        await this.#rename(action.from, path, action.remote);
        result.renamed++;
        return;
      case 'adopt': {
        // Another device's move won and the file was edited there since: pull it to `path` (a delta against
        // the local copy at `from`), then delete the local copy, which the base still holds unchanged.
        const row = this.#plannedRow(action.from);
        if (this.#plannedRow(path) !== undefined) throw new LocalChangedError(path);
        await this.#download(path, action.remote, undefined, path, row);
        result.pulled++;
        this.#removeFile(action.from, row!);
        this.#d.log.info({ from: action.from, path }, `${action.from}: another device's move to ${path} won and was edited there; pulled there`);
        return;
      }
      case 'discard':
      case 'delete': {
        // discard: this device's moved copy of a file whose other move won, already pulled to the winner's path.
        const row = this.#plannedRow(path);
        if (row === undefined) return;
        this.#removeFile(path, row);
        if (action.kind === 'discard') {
          result.renamed++;
          this.#d.log.info({ path }, `${path}: another device's move of the same file won, and it is here already; this copy is removed`);
        }
        return;
      }
      case 'rmdir': {
        const row = state.local.get(path);
        if (row === undefined) return;
        this.#checkRoot();
        if (!removeEmptyDir(this.#d.root, row)) return; // local files inside are pushed; the folder stays
        state.transaction(() => {
          state.deleteLocal(path);
          state.deleteBase(path);
        });
        return;
      }
    }
  }

  /**
   * The row the plan saw at `path`, when the local view still holds it.
   * @throws LocalChangedError when a scan recorded another version (or none) since the plan was made
   */
  #plannedRow(path: string): LocalEntry | undefined {
    const row = this.#planned.get(path);
    if (!sameRow(row, this.#d.state.local.get(path))) throw new LocalChangedError(path);
    return row;
  }

  /** Deletes the local file the plan saw (LocalChangedError when it changed since) and forgets its rows. */
  #removeFile(path: string, row: LocalEntry): void {
    this.#checkRoot();
    deleteFile(this.#d.root, row);
    this.#d.state.transaction(() => {
      this.#d.state.deleteLocal(path);
      this.#d.state.deleteBase(path);
    });
  }

  #checkRoot(): void {
    if (this.#rootChecked) return;
    this.#d.beforeDelete();
    this.#rootChecked = true;
  }

  /** Renames a local entry (and, for a folder, the rows under it) and records the new rows. */
  #moveLocal(from: string, to: string): void {
    const { state } = this.#d;
    const row = state.local.get(from)!;
    renameEntry(this.#d.root, row, to);
    state.transaction(() => {
      const moved = [...state.local.values()].filter((r) => isUnder(r.path, from));
      for (const r of moved) state.deleteLocal(r.path);
      for (const r of moved) {
        const path = `${to}${r.path.slice(from.length)}`;
        state.setLocal({ ...r, path, diskPath: path });
      }
    });
    this.#recordParents(to);
  }

  /** Folders a rename or download created above `path`: recorded as local and, when the server has them, as synced. */
  #recordParents(path: string): void {
    const { state } = this.#d;
    for (let slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
      const dir = path.slice(0, slash);
      if (state.local.get(dir)?.type === 'dir') continue;
      const st = lstatSync(join(this.#d.root, dir), { throwIfNoEntry: false });
      if (!st?.isDirectory()) continue;
      state.setLocal(rowOf(dir, st));
      if (state.remote.get(dir)?.type === 'dir') state.setBase(state.remote.get(dir)!);
    }
  }

  /**
   * Keeps the local bytes as a conflict copy (renamed, never copied), queues it as a new path, then pulls the
   * server's entry to the name. A conflict copy that conflicts again gets a number (conflictCopyName).
   */
  async #conflict(path: string, remote: RemoteEntry): Promise<void> {
    const { state } = this.#d;
    const now = new Date();
    let copy = conflictCopyName(path, this.#d.device(), now);
    for (let n = 2; state.local.has(copy) || state.remote.has(copy) || lstatSync(join(this.#d.root, copy), { throwIfNoEntry: false }); n++) {
      copy = conflictCopyName(path, this.#d.device(), now, n);
    }
    this.#moveLocal(path, copy);
    state.deleteBase(path);
    if (this.#d.push()) for (const r of state.local.values()) if (isUnder(r.path, copy)) this.#d.enqueue(r.path);
    this.#d.log.warn({ path, copy }, `conflict: ${path} changed here and on the server; this device's version is kept as ${copy}`);
    if (remote.type === 'dir') this.#mkdir(path);
    else await this.#download(path, remote, undefined);
  }

  #mkdir(path: string): void {
    const { state } = this.#d;
    const abs = join(this.#d.root, path);
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (st !== undefined && !st.isDirectory()) throw new LocalChangedError(path);
    if (st === undefined) {
      mkdirSync(abs, { recursive: true });
      this.#recordParents(path);
    }
    state.transaction(() => {
      state.setLocal(rowOf(path, lstatSync(abs)));
      state.setBase(state.remote.get(path)!);
    });
  }

  /**
   * Another device renamed `from` to `to`: the local file, still as planned (unchanged since the base), is
   * renamed to the free path `to` and given the server's mtime and executable bit. A row from a journal put
   * carries neither: they are asked of the server first (HEAD, headers only), so the renamed file matches the
   * server's as a download would.
   * Recorded as synced at `to`, gone at `from`.
   * @throws LocalChangedError when either path is not as planned, or the server's version is another now
   */
  async #rename(from: string, to: string, remote: RemoteEntry): Promise<void> {
    const { state } = this.#d;
    const row = this.#plannedRow(from);
    if (row?.type !== 'file' || row.hash === undefined || row.hash !== remote.hash) throw new LocalChangedError(from);
    if (this.#plannedRow(to) !== undefined) throw new LocalChangedError(to);
    let meta = remote.mtimeMs === UNKNOWN_MTIME_MS ? undefined : { mtimeMs: remote.mtimeMs, executable: remote.executable };
    if (meta === undefined) {
      const got = await this.#d.client.entryHeaders(to);
      if (got?.mtimeMs === undefined || got.hash !== row.hash) throw new LocalChangedError(`${to} (the server's version changed meanwhile)`);
      meta = { mtimeMs: got.mtimeMs, executable: got.executable };
    }
    this.#checkRoot();
    renameEntry(this.#d.root, row, to);
    const abs = join(this.#d.root, to);
    chmodSync(abs, meta.executable ? row.mode | 0o111 : row.mode & ~0o111);
    utimesSync(abs, new Date(), utimesArg(meta.mtimeMs));
    const st = lstatSync(abs);
    state.transaction(() => {
      state.deleteLocal(from);
      state.deleteBase(from);
      state.setLocal(rowOf(to, st, row.hash));
      const synced = { ...remote, mtimeMs: meta.mtimeMs, executable: meta.executable };
      state.setRemote(synced);
      state.setBase(synced);
    });
    this.#recordParents(to);
    this.#d.log.debug({ from, to }, `renamed ${from} to ${to}, as another device did`);
  }

  /**
   * GET of the server's `path` as a whole download: a big one (RESUME_MIN_BYTES) goes to a part file named for
   * the version, and asks only for what follows the bytes a cut attempt left there (`have`). The rest of another
   * version (the server moved on since the part was written) is refused and the part dropped.
   */
  async #fetchWhole(path: string, remote: RemoteEntry): Promise<{ got: Download; part?: string; have: number }> {
    const { client } = this.#d;
    if (remote.hash === undefined || remote.size < RESUME_MIN_BYTES) return { got: await client.download(path), have: 0 };
    const part = join(this.#d.tmpDir, partFileName(path, remote.hash));
    const have = statSync(part, { throwIfNoEntry: false })?.size ?? 0;
    if (have === 0 || have >= remote.size) return { got: await client.download(path), part, have: 0 };
    let got: Download;
    try {
      got = await client.download(path, { from: have });
    } catch (err) {
      // 416: the server's file is shorter than the part (another version): start again.
      if (!(err instanceof ScannerError && err.status === 416)) throw err;
      return { got: await client.download(path), part, have: 0 };
    }
    if (got.partial !== true) return { got, part, have: 0 };
    if (got.hash !== remote.hash) {
      for await (const _ of got.body) void _; // the rest, read and dropped: the connection stays usable
      rmSync(part, { force: true });
      throw new LocalChangedError(`${path} (the server's version changed meanwhile)`);
    }
    return { got, part, have };
  }

  /**
   * Downloads the server's version of `path` and puts it in place (at `localPath`, by default `path`) if the
   * local entry there is still `expected` (as planned). The server's `path` is then synced in the base. The
   * delta's basis is `basisRow` (by default `expected`): a local file with older bytes of it.
   */
  async #download(path: string, remote: RemoteEntry, expected: LocalEntry | undefined, localPath = path, basisRow = expected): Promise<void> {
    const { state, client } = this.#d;
    const fromHash = basisRow?.type === 'file' && basisRow.hash !== undefined ? basisRow.hash : undefined;
    // The local copy as the basis of a delta: the server computes it from that content (a version it keeps).
    const delta = fromHash === undefined ? undefined : await client.deltaDownload(path, fromHash);
    // A whole download big enough to matter goes to a part file that outlives a cut connection: the next attempt
    // (the next merge) asks only for the rest.
    const { got, part, have } = delta === undefined ? await this.#fetchWhole(path, remote) : { got: delta, have: 0 };
    const basis = delta === undefined ? undefined : await open(join(this.#d.root, basisRow!.diskPath), 'r');
    let staged: StagedFile;
    try {
      const hasher = createHash('sha256');
      const body = basis === undefined ? got.body : patched(basis, basisRow!.size, got.body, hasher);
      staged = part === undefined ? await stageFile(this.#d.tmpDir, body, got.mtimeMs, got.executable, hasher) : await stageInto(part, have, body, got.mtimeMs, got.executable, hasher);
    } finally {
      await basis?.close();
    }
    if (have > 0) this.#d.log.info({ path, resumedAt: have }, `resumed the download of ${path} at byte ${have}`);
    try {
      if (staged.hash !== remote.hash) throw new LocalChangedError(`${path} (the server's version changed meanwhile)`);
      const abs = join(this.#d.root, expected?.diskPath ?? localPath);
      if (!stillRecorded(lstatSync(abs, { throwIfNoEntry: false }), expected)) throw new LocalChangedError(localPath);
      const st = placeFile(this.#d.root, localPath, staged, expected);
      const mtimeMs = got.mtimeMs ?? Math.trunc(st.mtimeMs);
      state.transaction(() => {
        state.setLocal(rowOf(localPath, st, staged.hash));
        const row = { ...remote, size: staged.size, mtimeMs, executable: got.executable, hash: staged.hash };
        state.setRemote(row);
        state.setBase(row);
      });
      this.#recordParents(localPath);
      this.#d.onPulled?.(localPath, staged.size);
    } finally {
      discardStaged(staged);
    }
  }
}
