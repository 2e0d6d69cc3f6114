/**
 * The data-loss guards of one scanner, held together: the nesting guard (nesting-guard.ts), the root
 * identity (root-identity.ts) and the mass-delete limit (mass-delete-guard.ts). The scanner asks it
 * whether anything may be sent yet, what the scan pass must check, and whether a reconcile's deletes are
 * allowed; this module keeps the state those answers need. No network: the scanner passes in what the
 * server said.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FolderIdentityResponse } from '@deltabox/protocol';
import type { LocalEntry } from '../detect/change-detector.js';
import { CACHE_DIR, STATE_DB_FILE, TMP_DIR } from '../constants.js';
import { ScannerError } from '../errors.js';
import { assertDeleteShare, countPlannedDeletes, countRemoteFiles, queuedMoveSources, type MassDeleteLimit } from './mass-delete-guard.js';
import { assertNoServerFolderAbove, assertNotInsideServer, folderIdOf } from './nesting-guard.js';
import { FOLDER_ID_FILE, RootIdentity } from '../state/root-identity.js';
import type { ScanPassGuards } from '../detect/scan-pass.js';
import type { RemoteEntry, StateStore } from '../state/state-store.js';
import type { FolderId } from '../detect/tree-walk.js';

/** State meta key set once a reconcile of this client folder passed the mass-delete guard. */
const FIRST_SYNC_DONE_KEY = 'guard.first-sync-done';

export class FolderGuards {
  readonly #root: string;
  readonly #limit: MassDeleteLimit;
  /** State files and folders this run is about to create, newest last (see cleanUp). */
  readonly #created: string[];
  #identity: RootIdentity | undefined;
  #store: StateStore | undefined;
  #serverFolder: FolderId | undefined;
  #checked = false;
  #nested = false;

  /**
   * Runs before the scanner writes anything: checks the limit and refuses a client folder in a folder a
   * server has served, then notes which state files this run will create.
   * @throws ScannerError BAD_CONFIG (limit out of range), UNSAFE_FOLDER
   */
  constructor(root: string, stateDir: string, limit: MassDeleteLimit) {
    if (!Number.isFinite(limit.maxDeletePercent) || limit.maxDeletePercent < 0 || limit.maxDeletePercent > 100) {
      throw new ScannerError('BAD_CONFIG', `the mass-delete limit must be a percentage in 0..100, got ${limit.maxDeletePercent}`);
    }
    assertNoServerFolderAbove(root);
    this.#root = root;
    this.#limit = limit;
    const db = join(stateDir, STATE_DB_FILE);
    const paths = [stateDir, join(stateDir, TMP_DIR), join(stateDir, CACHE_DIR), db, `${db}-wal`, `${db}-shm`, join(stateDir, FOLDER_ID_FILE)];
    this.#created = paths.filter((p) => !existsSync(p));
  }

  /** Records or checks the root identity once the state is open. @throws ScannerError UNSAFE_FOLDER */
  openIdentity(stateDir: string, store: StateStore): void {
    this.#identity = new RootIdentity(this.#root, stateDir, store);
    this.#store = store;
  }

  /** True once the server's folder was compared with the client folder (or the server cannot tell). */
  get checked(): boolean {
    return this.#checked;
  }

  /** Throws unless the client path still holds the folder the state belongs to. @throws ScannerError UNSAFE_FOLDER */
  verifyRoot(): void {
    this.#identity?.verify();
  }

  /** What a scan pass checks. */
  scanGuards(): ScanPassGuards {
    return {
      ...(this.#serverFolder === undefined ? {} : { serverFolder: this.#serverFolder }),
      verifyRoot: () => this.verifyRoot(),
      limit: this.#limit,
    };
  }

  /**
   * The server's answer to GET /v1/folder (undefined: it has no such route). Resolves false when the
   * server cannot tell its folder (the caller warns); true when checked.
   * @throws ScannerError UNSAFE_FOLDER when the client folder is the server's or lies inside it
   */
  checkServer(identity: FolderIdentityResponse | undefined): boolean {
    const id = identity === undefined ? undefined : folderIdOf(identity);
    if (id !== undefined) {
      try {
        assertNotInsideServer(this.#root, id);
      } catch (err) {
        this.#nested = true;
        throw err;
      }
      this.#serverFolder = id;
    }
    this.#checked = true;
    return id !== undefined;
  }

  /**
   * The mass-delete limit for a reconcile: the server's files the client lacks, less those a queued or
   * planned move carries away. Until one reconcile of this client folder has passed the guard (its first
   * sync), small servers are guarded too (assertDeleteShare). @throws ScannerError MASS_DELETE
   */
  guardReconcile(
    remote: ReadonlyMap<string, RemoteEntry>,
    local: ReadonlyMap<string, LocalEntry>,
    planned: Iterable<{ kind: string; from?: string }>,
    queued: Iterable<{ kind: string; from?: string }>,
  ): void {
    const sources = queuedMoveSources(queued, queuedMoveSources(planned));
    const firstSync = this.#store?.getMeta(FIRST_SYNC_DONE_KEY) !== '1';
    assertDeleteShare(countPlannedDeletes(remote, local, remote.keys(), sources), countRemoteFiles(remote), this.#limit, firstSync);
    if (firstSync) this.#store?.setMeta(FIRST_SYNC_DONE_KEY, '1');
  }

  /** After the state is closed: a folder refused as nested keeps none of the state files this run made. */
  cleanUp(): void {
    if (this.#nested) for (const p of [...this.#created].reverse()) rmSync(p, { recursive: true, force: true });
  }
}
