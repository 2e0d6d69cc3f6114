/**
 * Executes queued paths against the server: asks transfer-plan.ts for the next step and performs it until
 * the server mirrors the path (a bounded number of steps), then records what the server acknowledged.
 * Modified files go as deltas computed locally from the basis cache (PATCH If-Match: the base hash); on a
 * 409 or a cache miss the server's signature is used; when a delta would not save enough, the whole file.
 * A delta the server refuses because its basis is not what the scanner thought (409 twice, 422, or the
 * connection cut) is tried once more against a fresh server signature, then the whole file goes.
 * It never decides what changed on disk (the detector) nor when to run (the scanner).
 */
import { SignatureBuilder, decodeSignature, encodeSignature } from '@deltabox/core';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { BatchPartMeta, BatchResponse, ChangeRecord, ManifestEntry } from '@deltabox/protocol';
import type { ApiClient, WriteMeta } from '../http/api-client.js';
import type { BasisCache } from './basis-cache.js';
import type { LocalEntry } from '../detect/change-detector.js';
import { BATCH_FILE_MAX_BYTES, DELTA_WORTH_RATIO, INLINE_MAX_BYTES, RESUMABLE_DELTA_MIN_BYTES, RESUMABLE_MIN_BYTES, SMALL_BLOCK_LENGTH, SMALL_DELTA_MIN_BYTES, STREAM_DELTA_HEAD_BYTES } from '../constants.js';
import { deltaPieces, localBlockLength, writeDeltaPieces, type DeltaBasis, type DeltaFile, type DeltaResult } from './delta-file.js';
import { ScannerError } from '../errors.js';
import { assertUnchanged, discardSnapshot, readChunks, snapshotChunks, takeSnapshot, type Snapshot } from './file-reader.js';
import type { BatchPart } from './batch-body.js';
import type { RemoteEntry } from '../state/state-store.js';
import { remoteOf, type SyncState } from '../state/sync-state.js';
import { sameContent } from '../pull/merge-plan.js';
import { isRevivable, planStep, type PlanContext, type Step } from './transfer-plan.js';
import type { QueueEntry } from '../queue/op-queue.js';
import { sendResumable, type UploadSessionKeeper } from './resumable-upload.js';

/** Steps one path may take in one dispatch (e.g. rmdir, then upload, then a metadata fix). */
const MAX_STEPS = 6;

export interface TransferCounters {
  uploads: number;
  deltas: number;
  moves: number;
  deletes: number;
  dirs: number;
  /** Bytes of file content made current on the server (the files' sizes, not the wire). */
  changedBytes: number;
  changedPaths: number;
}

export interface TransferDeps {
  root: string;
  tmpDir: string;
  client: ApiClient;
  state: SyncState;
  cache: BasisCache;
  plan: PlanContext;
  /**
   * Where resumable upload sessions are kept (the state store): whole files of RESUMABLE_MIN_BYTES and more
   * then go through a session that survives cuts and restarts. Absent: every whole file is one PUT.
   */
  uploads?: UploadSessionKeeper;
  /** Never send a delta: every changed file goes whole (moves are still moves). */
  fullUploads?: boolean;
  /** Runs before every delete or folder removal is sent; throws to stop it (the root identity check). */
  beforeDelete?(): void;
  /**
   * Two-way: a revive of `from` was refused because another device brought that file back at `to` first; the
   * next merge takes it as a move of the journal's (move against move renames the local copy there).
   */
  onMovedElsewhere?(from: string, to: string): void;
  /** Demotes a queued move whose source no longer holds and queues the source again. */
  onMoveFailed(path: string, from: string): void;
  /**
   * A write made the server create folders the remote view did not hold (a file's PUT creates its parents),
   * e.g. because the folder was removed on the server while the upload was in flight. They are now in the
   * remote view; the caller queues those the client no longer has, so they are removed again.
   */
  onFoldersRecorded?(paths: string[]): void;
  /** Called with the bytes about to go for `path` (the delta's size for a delta, else the file's). */
  onSending?(path: string, bytes: number): void;
  /** Called with payload bytes as they are sent for `path` (progress display). */
  onBytes?(bytes: number, path: string): void;
  /**
   * Called with the journal revision of every change this transfer made on the server, and what it recorded
   * (`op` on `path`); a write the server already held answers with the revision of the record that made it so.
   */
  onRevision?(revision: number, op: ChangeRecord['op'], path: string): void;
  /**
   * Two-way sync (docs/SYNC.md): push only a path whose remote entry is still its base, and never retry a
   * write the server refused for its base; both throw REMOTE_CHANGED so the path is merged first.
   */
  twoWay?: boolean;
}

export type BatchOutcome = { path: string; ok: true } | { path: string; ok: false; error: ScannerError };

function remoteChanged(path: string, cause?: unknown, holdEntry = false): ScannerError {
  return new ScannerError('REMOTE_CHANGED', `${path} changed on the server since the last merge; merging first`, { ...(cause === undefined ? {} : { cause }), ...(holdEntry ? { holdEntry } : {}) });
}

/** The server's answers that mean another device got there first (two-way: merge, never retry as is). */
const REFUSED_FOR_BASE = ['BASE_MISMATCH', 'ALREADY_EXISTS', 'PARENT_CHANGED', 'TYPE_CONFLICT'];

function isApi(err: unknown, ...codes: string[]): err is ScannerError {
  return err instanceof ScannerError && err.apiCode !== undefined && codes.includes(err.apiCode);
}

export class Transfer {
  readonly counters: TransferCounters = { uploads: 0, deltas: 0, moves: 0, deletes: 0, dirs: 0, changedBytes: 0, changedPaths: 0 };
  readonly #d: TransferDeps;

  constructor(deps: TransferDeps) {
    this.#d = deps;
  }

  /** Brings one queued path in step with the server. @throws ScannerError (UNREACHABLE, FILE_CHANGED, HTTP...) */
  async syncPath(entry: Pick<QueueEntry, 'path' | 'kind' | 'from'>): Promise<void> {
    let changed = false;
    if (this.#d.twoWay) this.#assertBaseCurrent(entry);
    for (let i = 0; i < MAX_STEPS; i++) {
      const step = planStep(entry, this.#d.plan);
      if (step.type === 'noop') break;
      if (step.type === 'blocked') throw new ScannerError('HTTP', `${entry.path} waits for a move out of it`);
      await this.#run(step, entry);
      changed = true;
    }
    if (changed) this.counters.changedPaths++;
  }

  /** Two-way: true unless the server changed this path (or a move's source) since the last merge. */
  isBaseCurrent(entry: Pick<QueueEntry, 'path' | 'from'>): boolean {
    if (!this.#d.twoWay) return true;
    const { remote, base } = this.#d.state;
    if (!sameContent(remote.get(entry.path), base.get(entry.path))) return false;
    if (entry.from === undefined || sameContent(remote.get(entry.from), base.get(entry.from))) return true;
    // A move whose source was deleted on the server since: sent as a revive, which the server arbitrates.
    return isRevivable({ path: entry.path, from: entry.from }, this.#d.plan);
  }

  /**
   * Two-way: a queued folder move whose source is gone from the server (deleted there: the merge decides each
   * file, as a revive or a push) can never run; as a move it would hold the files below it back, and its
   * folder would be made empty ahead of them. True when the queue should make it a plain entry.
   */
  isDeadFolderMove(entry: Pick<QueueEntry, 'path' | 'kind' | 'from'>): boolean {
    const { local, remote } = this.#d.state;
    return this.#d.twoWay === true && entry.kind === 'move' && entry.from !== undefined && local.get(entry.path)?.type === 'dir' && !remote.has(entry.from);
  }

  #assertBaseCurrent(entry: Pick<QueueEntry, 'path' | 'from'>): void {
    if (!this.isBaseCurrent(entry)) throw remoteChanged(entry.path);
  }

  /**
   * Two-way: a refusal for the base (or a moved parent) means another device got there first, and so does a
   * `404` for a path the view holds (another device moved or deleted it): the merge decides. Taken for done
   * ("already deleted", "gone: send it whole"), the view dropped the row, a journal move of its folder then had
   * nothing to carry, and the file at its new place never reached this device (two-way-view-lost-entry,
   * two-way-delta-404). `gone: false`: the caller handles NOT_FOUND itself (a revive the server cannot make).
   * `hold`: the queue keeps the entry for a retry after the merge (a folder move: the files below stay held back).
   */
  #refusedForBase(err: unknown, path: string, gone = true, hold = false): void {
    if (this.#d.twoWay && (isApi(err, ...REFUSED_FOR_BASE) || (gone && isApi(err, 'NOT_FOUND')))) throw remoteChanged(path, err, hold);
  }

  async #run(step: Exclude<Step, { type: 'noop' | 'blocked' }>, entry: Pick<QueueEntry, 'path' | 'from'>): Promise<void> {
    const { client, state } = this.#d;
    switch (step.type) {
      case 'mkdir': {
        const made = await client.makeDir(step.path);
        if (made) this.#d.onRevision?.(made.revision, 'mkdir', step.path);
        state.setRemote(made ? remoteOf(made) : { path: step.path, type: 'dir', size: 0, mtimeMs: 0, executable: false });
        this.counters.dirs++;
        return;
      }
      case 'rmdir':
        this.#d.beforeDelete?.();
        try {
          const revision = await client.removeDir(step.path, true);
          if (revision !== undefined) this.#d.onRevision?.(revision, 'rmdir', step.path);
        } catch (err) {
          this.#refusedForBase(err, step.path);
          if (!isApi(err, 'NOT_FOUND')) throw err;
        }
        state.deleteRemoteTree(step.path);
        this.counters.deletes++;
        return;
      case 'delete':
        this.#d.beforeDelete?.();
        try {
          const revision = await client.deleteFile(step.path, step.ifMatch);
          if (revision !== undefined) this.#d.onRevision?.(revision, 'delete', step.path);
        } catch (err) {
          this.#refusedForBase(err, step.path);
          if (isApi(err, 'BASE_MISMATCH') && err.currentHash !== undefined) {
            // Someone else changed it; the client is the source of truth: delete what is there now.
            const row = state.remote.get(step.path);
            if (row) state.setRemote({ ...row, hash: err.currentHash });
            return;
          }
          if (!isApi(err, 'NOT_FOUND')) throw err;
        }
        state.deleteRemoteTree(step.path);
        this.counters.deletes++;
        return;
      case 'move':
        try {
          const req = step.revive ? { revive: true } : { overwrite: !this.#d.twoWay };
          const moved = await client.move({ from: step.from, to: step.path, ...(step.hash === undefined ? {} : { ifMatch: step.hash }), ...req });
          state.moveRemote(step.from, step.path, remoteOf(moved));
          // A revive is journaled as new content at `path` (a put), a move as a move.
          this.#d.onRevision?.(moved.revision, step.revive ? 'put' : 'move', step.path);
          this.counters.moves++;
        } catch (err) {
          if (step.revive && this.#d.twoWay && isApi(err, 'MOVED_ELSEWHERE') && err.currentPath !== undefined) {
            // Another device moved the same file and its copy won: the merge renames ours to where it is.
            // The entry stays queued until then, so a folder new here that only this move fills is not made on
            // the server meanwhile (it stayed behind empty on every device).
            this.#d.onMovedElsewhere?.(step.from, err.currentPath);
            throw remoteChanged(step.path, err, true);
          }
          // Two-way, a plain move whose source is gone from the server (another device moved or deleted it): the
          // merge decides (move against move renames the moved files to where the server has them; uploading them
          // here as new files would duplicate the folder on every device).
          // A folder move stays queued until the merge: dropped, it no longer held back the files below it, which
          // went up at once as new files ahead of the merge that renames them to where the other move put the
          // folder (shared-load seed 1205: the folder, a conflict copy included, in two places).
          this.#refusedForBase(err, step.path, !step.revive, step.hash === undefined);
          // A revive the server cannot make (an older server, the version pruned, edited before its delete): upload.
          if (!isApi(err, 'NOT_FOUND', 'MOVED_ELSEWHERE', 'BASE_MISMATCH', 'TYPE_CONFLICT', 'ALREADY_EXISTS')) throw err;
          this.#d.onMoveFailed(step.path, step.from);
          entry.from = undefined; // fall back to uploading on the next step
        }
        return;
      case 'upload':
        await this.#upload(step.path, step.local);
        return;
    }
  }

  #absPath(local: LocalEntry): string {
    return join(this.#d.root, local.diskPath);
  }

  /** Records in the local view the version a snapshot read, so scan and transfer agree on what was sent. */
  #noteSnapshot(local: LocalEntry, snap: Snapshot): void {
    const st = snap.stat;
    if (local.hash === snap.hash && local.size === st.size && local.mtimeMs === st.mtimeMs && local.ino === st.ino && local.mode === (st.mode & 0o7777)) return;
    this.#d.state.setLocal({ ...local, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, mode: st.mode & 0o7777, hash: snap.hash, racy: true });
  }

  async #upload(path: string, local: LocalEntry): Promise<void> {
    const { state, cache } = this.#d;
    const known = local.hash === undefined ? undefined : { ...local, hash: local.hash };
    const snap = await takeSnapshot(this.#absPath(local), this.#d.tmpDir, {}, known);
    let adopted = false;
    try {
      this.#noteSnapshot(local, snap);
      const meta: WriteMeta = { mtimeMs: snap.stat.mtimeMs, executable: (snap.stat.mode & 0o111) !== 0 };
      let entry: ManifestEntry | undefined;
      let signature: Uint8Array | undefined;
      // How the next attempt goes: a delta (cached basis first), a delta against a fresh server signature,
      // or the whole file. A refused delta moves one step down; a whole upload is never refused for its basis.
      let mode: 'delta' | 'fresh-signature' | 'whole' = this.#d.fullUploads ? 'whole' : 'delta';
      // The server said the file is missing, then that it exists (its index and its folder disagree): the
      // client is the source of truth, so the last word is a whole upload without a precondition.
      let sawNotFound = false;
      let unconditional = false;
      for (let round = 0; round < 4 && entry === undefined; round++) {
        const base = state.remote.get(path);
        let wasDelta = false;
        const delta = { viaSession: false };
        try {
          // Small files keep no basis in the cache: their delta goes against the server's signature.
          if (mode !== 'whole' && base?.type === 'file' && base.hash !== undefined && snap.size >= SMALL_DELTA_MIN_BYTES) {
            wasDelta = true;
            const sent = await this.#sendDelta(path, snap, base.hash, meta, mode === 'fresh-signature', delta);
            if (sent) ({ entry, signature } = sent);
          }
          wasDelta = false;
          if (entry === undefined) ({ entry, signature } = await this.#sendWhole(path, snap, meta, unconditional ? undefined : base, unconditional));
        } catch (err) {
          this.#refusedForBase(err, path);
          // A cut delta session is no refusal: the retry computes the same delta and resumes it.
          const cut = err instanceof ScannerError && err.code === 'UPLOAD_CUT' && !delta.viaSession;
          const basisRefused = wasDelta && (isApi(err, 'BASE_MISMATCH', 'HASH_MISMATCH') || cut);
          if (basisRefused) mode = mode === 'delta' ? 'fresh-signature' : 'whole';
          if (isApi(err, 'ALREADY_EXISTS') && sawNotFound) {
            unconditional = true;
            mode = 'whole';
            continue;
          }
          if (isApi(err, 'BASE_MISMATCH', 'ALREADY_EXISTS')) {
            // The server holds another version than we thought: retry against it (its signature, not our cache).
            this.#setRemoteHash(path, err.currentHash);
            continue;
          }
          if (isApi(err, 'NOT_FOUND')) {
            // Gone from the server since we last heard (its signature could not be read): send it whole.
            sawNotFound = true;
            this.#setRemoteHash(path, undefined);
            continue;
          }
          // A delta the server could not apply to what it holds (its folder changed outside it, or it cut
          // the upload off): not this file's fault, so not "changed while it was being sent".
          if (basisRefused) continue;
          if (isApi(err, 'HASH_MISMATCH')) throw new ScannerError('FILE_CHANGED', `${path} changed while it was being sent; will retry`, { cause: err });
          throw err;
        }
      }
      if (entry === undefined) throw new ScannerError('HTTP', `${path}: the server kept changing under the upload`);
      this.#recordWrite(entry);
      this.counters.changedBytes += snap.size;
      if (snap.kind === 'copy' && snap.filePath !== undefined) {
        cache.adoptCopy(snap.hash, snap.filePath, snap.size);
        adopted = true;
      } else if (signature !== undefined) {
        cache.putSignature(snap.hash, signature);
      } else if (snap.kind === 'inline') {
        this.#keepSmallSignature(snap.hash, snap.bytes!);
      }
    } finally {
      if (!adopted) discardSnapshot(snap);
    }
  }

  #setRemoteHash(path: string, hash: string | undefined): void {
    const row = this.#d.state.remote.get(path);
    if (hash === undefined) {
      if (row?.type === 'file') this.#d.state.deleteRemote(path);
      return;
    }
    this.#d.state.setRemote({ ...(row ?? { path, type: 'file', size: 0, mtimeMs: 0, executable: false }), type: 'file', hash });
  }

  /** Counts bytes for the progress display and, for large files, builds the new signature on the way. */
  async *#metered(path: string, chunks: AsyncIterable<Uint8Array>, builder?: SignatureBuilder): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      builder?.push(chunk);
      this.#d.onBytes?.(chunk.length, path);
      yield chunk;
    }
  }

  async #sendWhole(
    path: string,
    snap: Snapshot,
    meta: WriteMeta,
    base: RemoteEntry | undefined,
    unconditional = false,
  ): Promise<{ entry: ManifestEntry; signature?: Uint8Array }> {
    const builder = snap.kind === 'live' ? new SignatureBuilder({ basisLength: snap.size, blockLength: localBlockLength(snap.size) }) : undefined;
    const write: WriteMeta = { ...meta, hash: snap.hash, size: snap.size };
    if (base?.type === 'file' && base.hash !== undefined) write.ifMatch = base.hash;
    else if (base === undefined && !unconditional) write.ifNoneMatch = true;
    this.#d.onSending?.(path, snap.size);
    const uploads = this.#d.uploads;
    if (uploads !== undefined && snap.kind !== 'inline' && snap.size >= RESUMABLE_MIN_BYTES) {
      const { entry, fromStart } = await sendResumable({
        client: this.#d.client, sessions: uploads, path, filePath: snap.filePath!, size: snap.size, meta: { ...write, hash: snap.hash },
        ...(builder === undefined ? {} : { builder }), onBytes: (n) => this.#d.onBytes?.(n, path),
      });
      if (snap.kind === 'live') assertUnchanged(snap.filePath!, snap.stat);
      this.counters.uploads++;
      // The signature is whole only when this attempt sent every byte (it did not resume).
      return builder && fromStart ? { entry, signature: encodeSignature(builder.finish()) } : { entry };
    }
    const body = snap.kind === 'inline' ? snap.bytes! : this.#metered(path, snapshotChunks(snap), builder);
    if (snap.kind === 'inline') this.#d.onBytes?.(snap.size, path);
    const entry = await this.#d.client.putFile(path, body, write);
    if (snap.kind === 'live') assertUnchanged(snap.filePath!, snap.stat);
    this.counters.uploads++;
    return builder ? { entry, signature: encodeSignature(builder.finish()) } : { entry };
  }

  /**
   * Sends a delta against `baseHash` (against the server's signature, never the cache, when `fresh`);
   * resolves undefined when the whole file is the better deal. A delta of RESUMABLE_DELTA_MIN_BYTES or more
   * goes through a resumable session (sets `attempt.viaSession`) when sessions are kept.
   */
  async #sendDelta(
    path: string,
    snap: Snapshot,
    baseHash: string,
    meta: WriteMeta,
    fresh: boolean,
    attempt: { viaSession: boolean },
  ): Promise<{ entry: ManifestEntry; signature?: Uint8Array } | undefined> {
    let basis = fresh ? undefined : this.#keptBasis(baseHash);
    if (basis === undefined) {
      const fetched = await this.#d.client.signature(path);
      // Two-way: another version than the view's is there (another device's edit): the merge decides, or this
      // upload would replace that edit without a conflict copy.
      if (this.#d.twoWay && fetched.hash !== undefined && fetched.hash !== baseHash) throw remoteChanged(path);
      if (fetched.hash !== undefined && fetched.hash !== baseHash) {
        this.#setRemoteHash(path, fetched.hash);
        baseHash = fetched.hash;
      }
      basis = { kind: 'signature', signature: decodeSignature(fetched.bytes) };
    }
    const write = { ...meta, hash: snap.hash, ifMatch: baseHash };
    if (snap.kind === 'inline') {
      // Held in memory already: the delta is too, and only goes when it saves enough.
      const bytes = await deltaBytes(snap, basis);
      if (bytes.length > DELTA_WORTH_RATIO * snap.size) return undefined;
      this.#d.onSending?.(path, bytes.length);
      this.#d.onBytes?.(bytes.length, path);
      const entry = await this.#d.client.patchFile(path, bytes, write);
      this.counters.deltas++;
      return { entry };
    }
    const streamed = await this.#streamDelta(path, snap, basis, write);
    if (streamed === undefined || 'entry' in streamed) return streamed;
    // RESUMABLE_DELTA_MIN_BYTES or more: the whole delta is in a temp file; it goes through a session.
    try {
      this.#d.onSending?.(path, streamed.stats.deltaBytes);
      attempt.viaSession = true;
      const { entry } = await sendResumable({
        client: this.#d.client, sessions: this.#d.uploads!, path, filePath: streamed.filePath, size: streamed.stats.deltaBytes, meta: write, delta: true,
        onBytes: (n) => this.#d.onBytes?.(n, path),
      });
      this.counters.deltas++;
      return streamed.newSignature ? { entry, signature: streamed.newSignature } : { entry };
    } finally {
      rmSync(streamed.filePath, { force: true });
    }
  }

  /**
   * Sends a delta in one PATCH, its first STREAM_DELTA_HEAD_BYTES streamed as they are computed, so the
   * server patches while this side still reads the file (the two used to run one after the other, through a
   * temp file). A longer delta is computed to its end into a temp file while the request waits, then follows
   * from that file when it is worth sending and under RESUMABLE_DELTA_MIN_BYTES (or no sessions are kept).
   * Otherwise the request is abandoned, committing nothing, with at most the head sent: resolves undefined
   * (the whole file goes) or with that temp file (a resumable session sends it; the caller removes it). The
   * file's stat and hash are checked before the delta's END op goes (FILE_CHANGED otherwise).
   */
  async #streamDelta(path: string, snap: Snapshot, basis: DeltaBasis, write: WriteMeta): Promise<{ entry: ManifestEntry; signature?: Uint8Array } | DeltaFile | undefined> {
    const worth = DELTA_WORTH_RATIO * snap.size;
    const sessions = this.#d.uploads !== undefined;
    const tmpDir = this.#d.tmpDir;
    const onBytes = this.#d.onBytes;
    const pieces = deltaPieces(snap, basis, {
      withSignature: snap.kind === 'live',
      beforeEnd: (stats) => {
        if (snap.kind === 'live') assertUnchanged(snap.filePath!, snap.stat);
        if (stats.targetHash !== snap.hash) throw new ScannerError('FILE_CHANGED', `${path} changed while its delta was computed`);
      },
    });
    let result: DeltaResult | undefined;
    let spilled: DeltaFile | undefined;
    let stopped: 'worthless' | 'large' | undefined;
    async function* body(): AsyncGenerator<Uint8Array> {
      const head: Uint8Array[] = [];
      let sent = 0;
      for (;;) {
        const next = await pieces.next();
        if (next.done) {
          result = next.value;
          return;
        }
        if (sent + next.value.length > STREAM_DELTA_HEAD_BYTES) {
          spilled = await writeDeltaPieces(tmpDir, [...head, next.value], pieces);
          break;
        }
        sent += next.value.length;
        head.push(Uint8Array.from(next.value));
        onBytes?.(next.value.length, path);
        yield next.value;
      }
      const total = spilled.stats.deltaBytes;
      stopped = total > worth ? 'worthless' : sessions && total >= RESUMABLE_DELTA_MIN_BYTES ? 'large' : undefined;
      if (stopped !== undefined) throw new ScannerError('PROTOCOL', `${path}: a delta of ${total} bytes does not go in one request; stopped`);
      let skip = sent;
      for await (const chunk of readChunks(spilled.filePath)) {
        const rest = skip >= chunk.length ? undefined : chunk.subarray(skip);
        skip = Math.max(0, skip - chunk.length);
        if (rest === undefined) continue;
        onBytes?.(rest.length, path);
        yield rest;
      }
    }
    let handedOver = false;
    try {
      const entry = await this.#d.client.patchFile(path, body(), write);
      this.counters.deltas++;
      const signature = (result ?? spilled)?.newSignature;
      return signature ? { entry, signature } : { entry };
    } catch (err) {
      if (stopped === 'worthless') return undefined;
      if (stopped === 'large') {
        handedOver = true;
        return spilled;
      }
      throw err;
    } finally {
      await pieces.return(undefined as never);
      if (spilled !== undefined && !handedOver) rmSync(spilled.filePath, { force: true });
    }
  }

  /** Records an acknowledged file write, and the parent folders the server holds because of it. */
  #recordWrite(entry: ManifestEntry): void {
    const { state } = this.#d;
    const row = remoteOf(entry);
    state.setRemote(row);
    this.#d.onRevision?.(entry.revision, 'put', entry.path);
    const made: string[] = [];
    for (let slash = row.path.lastIndexOf('/'); slash > 0; slash = row.path.lastIndexOf('/', slash - 1)) {
      const dir = row.path.slice(0, slash);
      if (state.remote.get(dir)?.type === 'dir') break;
      state.setRemote({ path: dir, type: 'dir', size: 0, mtimeMs: 0, executable: false });
      made.push(dir);
    }
    if (made.length > 0) this.#d.onFoldersRecorded?.(made);
  }

  /**
   * Keeps the basis of a version acknowledged from memory (a batch part) for a delta when it is next edited:
   * the small signature up to INLINE_MAX_BYTES, the bytes themselves (a byte-exact copy) above.
   */
  #keepBasis(hash: string, bytes: Uint8Array): void {
    if (bytes.length > INLINE_MAX_BYTES) this.#d.cache.putCopy(hash, bytes);
    else this.#keepSmallSignature(hash, bytes);
  }

  /** Keeps the signature of a small file's acknowledged version, for a delta when it is next edited. */
  #keepSmallSignature(hash: string, bytes: Uint8Array): void {
    if (bytes.length < SMALL_DELTA_MIN_BYTES || bytes.length > INLINE_MAX_BYTES) return;
    const builder = new SignatureBuilder({ basisLength: bytes.length, blockLength: SMALL_BLOCK_LENGTH });
    builder.push(bytes);
    this.#d.cache.putSmallSignature(hash, encodeSignature(builder.finish()));
  }

  /**
   * True when an upload step can go in a batch: a small file, new, or edited when the server takes edits in
   * a batch (then it goes as a delta against the signature kept for its base, or whole, both If-Match its base).
   */
  batchable(step: Step): step is Extract<Step, { type: 'upload' }> {
    if (step.type !== 'upload') return false;
    if (step.local.size > BATCH_FILE_MAX_BYTES) return false;
    return step.base === undefined || (step.base.type === 'file' && step.base.hash !== undefined && this.#d.client.batchesEdits);
  }

  /**
   * Uploads small files (up to BATCH_FILE_MAX_BYTES) in one batch request: new ones, and edited ones as deltas
   * (or whole) against the version the server holds. Each path succeeds or fails on its own; a file that grew past the batch limit
   * since the scan, an edit whose base has no kept signature, and an edit the server could not apply to its
   * base (outside two-way sync) are sent alone, as syncPath would.
   * @throws ScannerError for failures of the whole request (UNREACHABLE, UNAUTHORIZED...)
   */
  async syncBatch(locals: LocalEntry[]): Promise<BatchOutcome[]> {
    const outcomes: BatchOutcome[] = [];
    const parts: BatchPart[] = [];
    /** The file's bytes of each part (a delta part's `bytes` are the delta). */
    const contents = new Map<string, Uint8Array>();
    const alone: string[] = [];
    const fail = (path: string, err: unknown): void => {
      if (err instanceof ScannerError && (err.code === 'UNREACHABLE' || err.code === 'UNAUTHORIZED' || err.code === 'FORBIDDEN')) throw err;
      outcomes.push({ path, ok: false, error: err instanceof ScannerError ? err : new ScannerError('FILE_CHANGED', String(err), { cause: err }) });
    };
    for (const local of locals) {
      try {
        const snap = await takeSnapshot(this.#absPath(local), this.#d.tmpDir, {}, undefined, BATCH_FILE_MAX_BYTES);
        if (snap.kind !== 'inline') {
          discardSnapshot(snap);
          alone.push(local.path);
          continue;
        }
        this.#noteSnapshot(local, snap);
        const part = await this.#batchPart(local.path, snap);
        if (part === undefined) {
          alone.push(local.path);
          continue;
        }
        parts.push(part);
        contents.set(local.path, snap.bytes!);
      } catch (err) {
        fail(local.path, err);
      }
    }
    if (parts.length > 0) {
      let response: BatchResponse | undefined;
      try {
        response = await this.#d.client.batch(parts);
      } catch (err) {
        // An older server refused the edits with the whole batch (nothing committed): every part goes again,
        // the new files in a batch, the edits alone.
        if (!(err instanceof ScannerError && err.code === 'PROTOCOL' && !this.#d.client.batchesEdits)) throw err;
        const again = locals.filter((l) => parts.some((p) => p.meta.path === l.path && p.meta.ifMatch === undefined));
        alone.push(...parts.filter((p) => p.meta.ifMatch !== undefined).map((p) => p.meta.path));
        outcomes.push(...(again.length > 0 ? await this.syncBatch(again) : []));
      }
      if (response !== undefined) this.#settleBatch(parts, contents, response, outcomes, alone);
    }
    for (const path of alone) {
      try {
        await this.syncPath({ path, kind: 'sync' });
        outcomes.push({ path, ok: true });
      } catch (err) {
        fail(path, err);
      }
    }
    return outcomes;
  }

  /**
   * The batch part of an inline snapshot: whole when new, small, or with --full-uploads; a delta against the
   * basis kept of its base (#keptBasis) when that saves enough; undefined when none is kept (the file goes
   * alone, against the server's signature). A new file's part is made at once, with no promise and one meta
   * object (a first sync makes 100,000; they live until the batch is answered, long enough to reach the old
   * generation of the heap).
   */
  #batchPart(path: string, snap: Snapshot): BatchPart | Promise<BatchPart | undefined> | undefined {
    const st = snap.stat;
    const meta: BatchPartMeta = { path, size: snap.size, mtimeMs: Math.trunc(st.mtimeMs), executable: (st.mode & 0o111) !== 0, hash: snap.hash };
    const base = this.#d.state.remote.get(path);
    if (base === undefined) {
      // Two-way: create only, like a single new file's PUT (another device may have made the same path).
      if (this.#d.twoWay) meta.ifNoneMatch = true;
      return { meta, bytes: snap.bytes! };
    }
    if (base.type !== 'file' || base.hash === undefined || !this.#d.client.batchesEdits) return undefined;
    // Two-way: as syncPath, only over the version this device last merged (else another device's edit is lost).
    this.#assertBaseCurrent({ path });
    meta.ifMatch = base.hash;
    return this.#editPart(snap, meta as BatchPartMeta & { ifMatch: string });
  }

  /** An edited file's part, If-Match its base (`meta.ifMatch`): a delta when one is kept and saves enough, else whole. */
  async #editPart(snap: Snapshot, meta: BatchPartMeta & { ifMatch: string }): Promise<BatchPart | undefined> {
    const whole: BatchPart = { meta, bytes: snap.bytes! };
    if (this.#d.fullUploads || snap.size < SMALL_DELTA_MIN_BYTES) return whole;
    const basis = this.#keptBasis(meta.ifMatch);
    if (basis === undefined) return undefined;
    const delta = await deltaBytes(snap, basis);
    if (delta.length > DELTA_WORTH_RATIO * snap.size) return whole;
    return { meta: { ...meta, size: delta.length, delta: true }, bytes: delta, fileSize: snap.size };
  }

  /**
   * The basis this device kept of version `hash`, no request made: a byte-exact copy or a signature from the
   * cache, else the small signature kept for a file of INLINE_MAX_BYTES or less. Undefined when none is kept.
   */
  #keptBasis(hash: string): DeltaBasis | undefined {
    const cached = this.#d.cache.lookup(hash);
    if (cached?.kind === 'copy') return cached;
    const bytes = cached?.kind === 'signature' ? cached.bytes : this.#d.cache.smallSignature(hash);
    return bytes === undefined ? undefined : { kind: 'signature', signature: decodeSignature(bytes) };
  }

  /**
   * Records a batch's answer: acknowledged files, failures, and the edits the server could not apply to the
   * base this view holds, which go alone (`alone`) after the view learns what the server has.
   */
  #settleBatch(parts: BatchPart[], contents: ReadonlyMap<string, Uint8Array>, response: BatchResponse, outcomes: BatchOutcome[], alone: string[]): void {
    const sent = new Map(parts.map((p) => [p.meta.path, p]));
    // One commit for the whole batch's rows (remote entries, kept signatures), not one per file.
    this.#d.state.transaction(() => {
      for (const result of response.results) {
        const part = sent.get(result.path);
        if (result.ok) {
          this.#recordWrite(result.entry);
          const bytes = contents.get(result.path);
          if (part !== undefined && bytes !== undefined) this.#keepBasis(part.meta.hash, bytes);
          if (part?.meta.delta) this.counters.deltas++;
          else this.counters.uploads++;
          this.counters.changedPaths++;
          this.counters.changedBytes += result.entry.size;
          this.#d.onBytes?.(part?.bytes.length ?? 0, result.path);
          outcomes.push({ path: result.path, ok: true });
          continue;
        }
        const { code, message, currentHash } = result.error;
        const error = new ScannerError('HTTP', `${result.path}: ${code} ${message}`, { apiCode: code, ...(currentHash === undefined ? {} : { currentHash }) });
        const edit = part?.meta.ifMatch !== undefined;
        if (this.#d.twoWay && (isApi(error, ...REFUSED_FOR_BASE) || (edit && isApi(error, 'NOT_FOUND')))) {
          // Refused for its base (another device made, changed or removed the path, or moved a folder on the way): merge first.
          outcomes.push({ path: result.path, ok: false, error: remoteChanged(result.path, error) });
        } else if (edit && isApi(error, 'BASE_MISMATCH', 'NOT_FOUND', 'HASH_MISMATCH', 'DELTA_MALFORMED')) {
          // The server holds another version than this view says (push mode), or the kept signature did not fit
          // it: the single-file path sends it against what is there (a fresh signature, else whole; two-way, it
          // merges first if the server's version is not the base).
          if (isApi(error, 'BASE_MISMATCH', 'NOT_FOUND')) this.#setRemoteHash(result.path, currentHash);
          alone.push(result.path);
        } else {
          outcomes.push({ path: result.path, ok: false, error });
        }
      }
    });
    for (const part of parts) {
      if (!response.results.some((r) => r.path === part.meta.path)) {
        outcomes.push({ path: part.meta.path, ok: false, error: new ScannerError('PROTOCOL', `batch response has no result for ${part.meta.path}`) });
      }
    }
  }
}

/** The whole delta of a snapshot held in memory against `basis`, as one buffer. */
async function deltaBytes(snap: Snapshot, basis: DeltaBasis): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const pieces = deltaPieces(snap, basis);
  for (let next = await pieces.next(); !next.done; next = await pieces.next()) parts.push(next.value);
  return Buffer.concat(parts);
}
