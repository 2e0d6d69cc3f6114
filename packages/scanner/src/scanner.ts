/**
 * The scanner: wires detect -> queue -> transfer. It owns the timers (periodic scan, watcher, retry
 * wake-ups), the dispatch of up to `concurrency` transfers, going offline and reconciling on reconnect,
 * and shutdown. What changed is decided by change-detector.ts, what to send by transfer-plan.ts, how by
 * transfer.ts; this file only decides when.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { STATE_DIR } from '@deltabox/protocol';
import { ApiClient } from './http/api-client.js';
import { backoffDelayMs } from './queue/backoff.js';
import { BasisCache } from './transfer/basis-cache.js';
import {
  CACHE_DIR,
  DEFAULT_CACHE_BUDGET_BYTES,
  DEFAULT_CONCURRENCY,
  DEFAULT_INTERVAL_MS,
  DEFAULT_MAX_DELETE_PERCENT,
  JOURNAL_CATCHUP_MAX_CHANGES,
  LISTING_WORKER_MIN_ROWS,
  ONCE_MAX_ATTEMPTS,
  ONCE_MAX_RESCANS,
  SMALL_DELTA_MIN_BYTES,
  TMP_DIR,
} from './constants.js';
import { isConnectivityError, isFatalError, ScannerError } from './errors.js';
import { lockFolder } from './state/folder-lock.js';
import { silentLogger, type Logger } from './logger.js';
import { FolderGuards } from './guards/folder-guards.js';
import { OpQueue } from './queue/op-queue.js';
import { Dispatcher } from './queue/dispatcher.js';
import { runScanPass } from './detect/scan-pass.js';
import { ListingWorker, type TreeListing } from './detect/tree-listing.js';
import { diffForQueue } from './queue/reconcile-plan.js';
import { applyJournal, isOwnRecord, ownWrite } from './pull/journal-catchup.js';
import { StateStore, type RemoteEntry } from './state/state-store.js';
import { remoteOf, SyncState } from './state/sync-state.js';
import { Transfer, type TransferCounters } from './transfer/transfer.js';
import { inSync, planStep } from './transfer/transfer-plan.js';
import { watchFolder, type FolderWatcher } from './detect/watcher.js';
import { hostname } from 'node:os';
import { formatBytes } from './progress.js';
import { assertLocalDeleteShare } from './guards/mass-delete-guard.js';
import { PART_PREFIX } from './pull/local-apply.js';
import { MergeApplier } from './pull/merge-apply.js';
import { planMerge, type MoveRecord } from './pull/merge-plan.js';

export interface ScannerOptions {
  /** The client folder (created if missing). */
  cdir: string;
  /** Server base URL, e.g. http://127.0.0.1:7070 */
  server: string;
  token: string;
  /** PEM CA to trust for https. */
  ca?: string | Buffer;
  /** Full scan period (default 5 s). */
  intervalMs?: number;
  /** Transfers in flight (default 4). */
  concurrency?: number;
  /** Watch the folder for changes between scans (default true). */
  watch?: boolean;
  /** Basis cache budget in bytes (default 512 MiB). */
  cacheBudgetBytes?: number;
  /**
   * Send every changed file whole, never as a delta (default false). Moves and renames are still detected
   * and sent as moves. For comparing whole against delta transfers, or a server whose CPU is scarce.
   */
  fullUploads?: boolean;
  /**
   * Largest share of the server's files one scan pass or reconcile may delete, in percent (default 50).
   * Over it the scanner stops with MASS_DELETE and deletes nothing. Servers with 10 files or fewer are
   * not guarded.
   */
  maxDeletePercent?: number;
  /** No mass-delete limit: the user confirmed that the client folder really lost those files. */
  allowMassDelete?: boolean;
  /**
   * `two-way` (push and pull, docs/SYNC.md), `push` (the server mirrors this folder; the library's default,
   * as before issue 12) or `pull` (download only; chosen whatever this says when the token is read-only).
   */
  mode?: SyncMode;
  logger?: Logger;
  /**
   * Without a watcher, from how many local rows the first scan lists the folder on a worker thread while the
   * state loads (default LISTING_WORKER_MIN_ROWS; tests set 0 to use it on small folders).
   */
  listingWorkerMinRows?: number;
}

export type SyncMode = 'two-way' | 'push' | 'pull';

/** How long one journal long-poll waits on the server (the server caps it). */
const CHANGES_WAIT_MS = 25_000;

export interface SyncSummary {
  /** Paths the server was changed for. */
  filesChanged: number;
  /** Bytes of file content that became current on the server. */
  bytesChanged: number;
  /** Bytes on the wire, both directions, headers included. */
  sentBytes: number;
  receivedBytes: number;
  /** HTTP requests made (a batch of small files is one). */
  requests: number;
  elapsedMs: number;
  uploads: number;
  deltas: number;
  moves: number;
  deletes: number;
  /** Entries still queued (e.g. failing). */
  pending: number;
  /** Entries the last scan skipped with a warning (symlinks, special files, names not valid UTF-8...). */
  skipped: number;
}

export interface ProgressSnapshot {
  pendingPaths: number;
  /** Bytes still to be sent, as far as known: whole files, and deltas once computed (their size, not the file's). */
  pendingBytes: number;
  /** Queued modified files whose delta is not computed yet (their bytes are not in pendingBytes). */
  deltaPaths: number;
  inFlight: number;
  sentFileBytes: number;
  offline: boolean;
}

/** Meta key of the journal revision the stored remote table is exact at, with the server URL it is for. */
const VIEW_REVISION_KEY = 'remote.revision';
/**
 * Meta key set once a two-way merge with a server folder completed, to that folder's id (GET /v1/folder
 * `folderId`; the server URL for a server that does not say): the device has joined that folder. An empty
 * base from then on means the folder and the server agreed on nothing, not "never merged"; another id means
 * another server folder, whose journal and files the base says nothing about.
 */
const JOINED_KEY = 'twoway.joined';

type Waiter = { resolve: () => void; reject: (err: Error) => void };

export class Scanner {
  readonly root: string;
  readonly #stateDir: string;
  readonly #tmpDir: string;
  readonly #opts: Required<Omit<ScannerOptions, 'ca' | 'logger'>>;
  /** The mode in force: the option, or `pull` once the server says the token is read-only. */
  #mode: SyncMode;
  /** Device name for conflict copies (GET /v1/folder `device`, else the host name). */
  #device = hostname();
  /** Other devices' journal moves since the last merge (two-way), oldest first. */
  #moves: MoveRecord[] = [];
  /** Revives the server refused as MOVED_ELSEWHERE (another device's copy won): moves for the next merge. */
  #movedElsewhere: MoveRecord[] = [];
  /** Sources of those refused revives: never revived again (MergeInput.refusedRevives); bounded. */
  readonly #refusedRevives = new Set<string>();
  /** The next merge trusts no base (joining, an expired cursor, a server that lost its journal). */
  #unionMerge = false;
  /** The server folder's id (GET /v1/folder), once asked. */
  #serverFolderId: string | undefined;
  /** Some merge action could not be applied: merge again on the next tick. */
  #mergeAgain = false;
  #mergeTimer: NodeJS.Timeout | undefined;
  /** Downloads of the merge in progress, for the progress lines of a long pull (joining a full folder). */
  #pulls = { total: 0, done: 0, bytes: 0, loggedAt: 0 };
  readonly #merger: MergeApplier;
  readonly #pollClient: ApiClient;
  readonly #log: Logger;
  /** Whether debug lines are logged: the work done only for them (merge plan strings, record counts) is skipped otherwise. */
  readonly #debug: boolean;
  readonly #store: StateStore;
  readonly #state: SyncState;
  readonly #queue: OpQueue;
  readonly #cache: BasisCache;
  readonly #client: ApiClient;
  readonly #transfer: Transfer;
  readonly #dispatcher: Dispatcher;
  /** The "up to date" line was logged since the scanner last had work (see #tick). */
  #saidUpToDate = false;
  readonly #startedAt = Date.now();
  #offline = false;
  #stopping = false;
  #once = false;
  #reconciling = false;
  #scanRunning: Promise<void> | undefined;
  #reconcileRunning: Promise<void> | undefined;
  #scanAgain = false;
  /** The listing under way for the first scan, valid while the local rows had `localWrites` writes. */
  #listing: { worker: ListingWorker; localWrites: number } | undefined;
  #sentFileBytes = 0;
  /** Bytes still to go for paths being sent (a delta's size, not its file's), for the progress line. */
  readonly #sendingLeft = new Map<string, number>();
  /** The server's journal revision as far as this scanner knows (manifest, then its own writes). */
  #knownRevision = 0;
  /**
   * The journal revision the remote view was exact at after the last complete reconcile (undefined: not
   * known, the next reconcile reads the manifest). Writes since then are in `#ownRevisions`.
   */
  #viewRevision: number | undefined;
  #ownRevisions = new Map<number, string>();
  /**
   * The stored view revision (meta `remote.revision`, as stored) while it matches the remote table exactly;
   * undefined otherwise. Kept so that a reconcile that finds nothing new writes nothing: a run's first write
   * to the state database costs an fsync of SQLite's WAL header.
   */
  #savedView: string | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #intervalTimer: NodeJS.Timeout | undefined;
  #rescanTimer: NodeJS.Timeout | undefined;
  /** Scans in a row that found a file changing while it was read (--once waits for them, ONCE_MAX_RESCANS). */
  #changingScans = 0;
  #watcher: FolderWatcher | undefined;
  #waiters: Waiter[] = [];
  #warned = new Set<string>();
  #fatal: Error | undefined;
  /** Nesting, root identity and mass-delete guards; nothing is sent before `checked`. */
  readonly #guards: FolderGuards;
  #skipped = 0;
  readonly #unlock: () => void;
  #onFatal: (err: Error) => void = () => {};
  /** Resolves with the error that stopped the scanner for good (a revoked token...); never rejects. */
  readonly failed: Promise<Error> = new Promise((resolveFailed) => {
    this.#onFatal = resolveFailed;
  });

  /** Opens the client state (creating folders as needed) and removes temp files a crash left behind. */
  constructor(options: ScannerOptions) {
    this.root = resolve(options.cdir);
    this.#stateDir = join(this.root, STATE_DIR);
    this.#tmpDir = join(this.#stateDir, TMP_DIR);
    this.#opts = {
      cdir: this.root,
      server: options.server,
      token: options.token,
      intervalMs: options.intervalMs ?? DEFAULT_INTERVAL_MS,
      concurrency: Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY),
      watch: options.watch ?? true,
      cacheBudgetBytes: options.cacheBudgetBytes ?? DEFAULT_CACHE_BUDGET_BYTES,
      fullUploads: options.fullUploads ?? false,
      maxDeletePercent: options.maxDeletePercent ?? DEFAULT_MAX_DELETE_PERCENT,
      allowMassDelete: options.allowMassDelete ?? false,
      mode: options.mode ?? 'push',
      listingWorkerMinRows: options.listingWorkerMinRows ?? LISTING_WORKER_MIN_ROWS,
    };
    this.#mode = this.#opts.mode;
    this.#log = options.logger ?? silentLogger;
    this.#debug = this.#log.isLevelEnabled?.('debug') === true;
    this.#guards = new FolderGuards(this.root, this.#stateDir, {
      maxDeletePercent: this.#opts.maxDeletePercent,
      allowMassDelete: this.#opts.allowMassDelete,
    });
    mkdirSync(this.#tmpDir, { recursive: true });
    this.#unlock = lockFolder(this.#stateDir);
    // What a run left in the temp folder goes, except (when this run merges) the part files of cut downloads:
    // the first merge resumes those its plan still wants and drops the others (MergeApplier #dropStaleParts).
    const keepParts = this.#mode !== 'push';
    for (const name of readdirSync(this.#tmpDir)) {
      if (!(keepParts && name.startsWith(PART_PREFIX))) rmSync(join(this.#tmpDir, name), { force: true, recursive: true });
    }
    this.#store = new StateStore(this.#stateDir);
    try {
      this.#guards.openIdentity(this.#stateDir, this.#store);
    } catch (err) {
      this.#store.close();
      this.#unlock();
      throw err;
    }
    // Without a watcher, the first scan reads a listing of the folder made meanwhile on a worker thread: the
    // state load and the listing (each about half of a no-change rescan) run at once. With one, the walk stays
    // where it was, after the watcher started. A folder much larger than the rows (a large ignored folder, or a
    // first sync) is walked here instead: the worker gives up. A small folder gains nothing: no worker.
    if (!this.#opts.watch && this.#store.hasLocalRows(this.#opts.listingWorkerMinRows)) this.#listing = this.#startListing();
    this.#state = new SyncState(this.#store);
    this.#listing?.worker.limit(2 * this.#state.local.size + 10_000);
    this.#viewRevision = this.#loadViewRevision();
    this.#queue = new OpQueue(this.#store.loadQueue(), this.#store);
    this.#cache = new BasisCache(join(this.#stateDir, CACHE_DIR), this.#store, this.#opts.cacheBudgetBytes);
    const clientOptions = { baseUrl: options.server, token: options.token, ...(options.ca === undefined ? {} : { ca: options.ca }) };
    this.#client = new ApiClient(clientOptions);
    this.#pollClient = new ApiClient(clientOptions);
    const queue = this.#queue;
    this.#dispatcher = new Dispatcher(
      queue,
      this.#state,
      () => this.#transfer,
      this.#opts.concurrency,
      {
        canDispatch: () =>
          !this.#stopping && !this.#offline && !this.#reconciling && this.#guards.checked && this.#fatal === undefined && this.#mode !== 'pull',
        onConnectivityLost: (err) => this.#goOffline(err),
        onFatal: (err) => this.#fail(err),
        onNeedsRescan: () => this.#scheduleRescan(),
        onRound: () => this.#checkIdle(),
        onSynced: (path, from, pushed) => {
          this.#settle(path, from, pushed);
          if (from !== undefined) this.#queueUncarried(path);
        },
        onRemoteChanged: () => this.#scheduleMerge(),
      },
      this.#log,
    );
    this.#merger = new MergeApplier({
      root: this.root,
      tmpDir: this.#tmpDir,
      state: this.#state,
      client: this.#client,
      log: this.#log,
      device: () => this.#device,
      push: () => this.#mode !== 'pull',
      enqueue: (path) => queue.enqueue(path, Date.now()),
      enqueueMove: (path, from) => queue.enqueue(path, Date.now(), 'move', from),
      beforeDelete: () => this.#guards.verifyRoot(),
      onPulled: (_path, bytes) => this.#notePulled(bytes),
    });
    this.#transfer = new Transfer({
      root: this.root,
      tmpDir: this.#tmpDir,
      client: this.#client,
      state: this.#state,
      cache: this.#cache,
      uploads: this.#store,
      plan: this.#dispatcher.planContext(),
      fullUploads: this.#opts.fullUploads,
      twoWay: this.#opts.mode !== 'push',
      beforeDelete: () => this.#guards.verifyRoot(),
      onMoveFailed: (path, from) => {
        const now = Date.now();
        queue.demoteMove(path);
        queue.enqueue(from, now);
        // A folder move that failed: its contents were never queued on their own; queue them now.
        for (const p of this.#state.local.keys()) if (p.startsWith(`${path}/`)) queue.enqueue(p, now);
      },
      onMovedElsewhere: (from, to) => {
        this.#movedElsewhere.push({ from, to });
        if (this.#refusedRevives.size >= 10_000) this.#refusedRevives.clear();
        this.#refusedRevives.add(from);
      },
      onFoldersRecorded: (paths) => {
        const now = Date.now();
        for (const p of paths) if (this.#state.local.get(p)?.type !== 'dir') queue.enqueue(p, now);
      },
      onSending: (path, bytes) => {
        this.#sendingLeft.set(path, bytes);
      },
      onBytes: (n, path) => {
        this.#sentFileBytes += n;
        const left = this.#sendingLeft.get(path);
        if (left !== undefined) this.#sendingLeft.set(path, Math.max(0, left - n));
      },
      onRevision: (revision, op, path) => {
        this.#knownRevision = Math.max(this.#knownRevision, revision);
        // Answered with a record this write did not make (the content was already there: maybe another
        // device's record, a folder move say): not ours, so the journal applies it to the view.
        if (this.#client.recordedByUs(revision) === false) return;
        this.#ownRevisions.set(revision, ownWrite(op, path));
        this.#log.debug({ revision, op, path }, 'own write');
        this.#forgetSavedView();
      },
    });
  }

  /**
   * Two-way: a path the server acknowledged a write of ours for, or already held as the folder has it, is
   * synced. After an acknowledged write the base is what we sent even when the folder changed again while it
   * was on its way (that newer edit is then a plain local change, pushed next): keeping the old base would
   * make this device's own write look like another device's and its next edit a conflict copy of itself.
   * Nothing else changes the remote view while a push runs (the journal is applied only once the queue drained).
   */
  #settle(path: string, from: string | undefined, pushed: boolean): void {
    if (this.#mode === 'push') return;
    this.#state.transaction(() => {
      // A folder moved on the server leaves behind what the server had deleted under it; the revives queued for
      // those files (moved here with the folder) keep their sources' base (seed 1205: dropped, they went up as
      // new content while another mover's revive won).
      const keep = (p: string): boolean => p !== path && this.#queue.hasMoveFrom(p, false);
      this.#state.settlePushed(path, from, pushed, keep);
    });
  }

  /**
   * After a folder move: the server moved what it held, and the scan queued nothing below the new folder (the
   * move carries it). A file below that the server never had at the old path (its upload was cut by a restart
   * or found the file gone as the folder moved) is queued here; before, it stayed off the server until a
   * restart (cli model test, seed -1195523596: `d1/z` missing after `write d2/sub/z, restart, mv d2/sub d1`).
   */
  #queueUncarried(path: string): void {
    const { local, remote } = this.#state;
    if (local.get(path)?.type !== 'dir') return;
    const now = Date.now();
    for (const [p, row] of local) {
      if (p.startsWith(`${path}/`) && !inSync(row, remote.get(p)) && this.#queue.get(p) === undefined) this.#queue.enqueue(p, now);
    }
  }

  /** A merge soon (a push was refused for its base, or the journal has news): coalesced. */
  #scheduleMerge(delayMs = 50): void {
    if (this.#mergeTimer || this.#stopping) return;
    this.#mergeTimer = setTimeout(() => {
      this.#mergeTimer = undefined;
      if (this.#stopping || this.#offline || this.#fatal) return;
      this.#reconcile().catch((err) => {
        if (isConnectivityError(err)) this.#goOffline(err as Error);
        else if (isFatalError(err)) this.#fail(err as Error);
        else this.#log.warn({ err: String(err) }, 'merge failed; will retry');
      });
    }, delayMs);
  }

  /**
   * Two-way and pull: long-polls the journal from the merged revision; another device's record starts a
   * merge at once (docs/SYNC.md §Staying current). Own records only move the poll on.
   */
  async #pollLoop(): Promise<void> {
    let from = this.#viewRevision ?? 0;
    while (!this.#stopping) {
      if (this.#offline || this.#fatal || this.#reconciling) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      from = Math.max(from, this.#viewRevision ?? 0);
      try {
        const page = await this.#pollClient.changes(from, 100, CHANGES_WAIT_MS);
        if (this.#stopping) return;
        const news = page.changes.some((c) => !isOwnRecord(this.#ownRevisions, c));
        if (news || page.expired || page.revision < from) {
          await this.#reconcile().catch((err) => {
            if (isConnectivityError(err)) this.#goOffline(err as Error);
            else if (isFatalError(err)) this.#fail(err as Error);
          });
          from = this.#viewRevision ?? from;
        } else if (page.changes.length > 0) from = page.changes[page.changes.length - 1]!.revision;
      } catch (err) {
        if (this.#stopping) return;
        if (isFatalError(err)) return this.#fail(err as Error);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  /** Runs until stop(): reconciles, scans every interval and on watcher events, retries while offline. */
  async start(): Promise<void> {
    this.#intervalTimer = setInterval(() => void this.#tick(), this.#opts.intervalMs);
    if (this.#opts.watch) {
      this.#watcher = watchFolder(
        this.root,
        () => void this.scanNow(),
        // Once per path: a symlink loop (ELOOP) fails again on every change under it.
        (err) => this.#warnOnce('file watcher failed; relying on the periodic scan', { path: (err as { path?: string }).path ?? '', err: err.message }),
      );
    }
    try {
      await this.#client.health();
      await this.#reconcile();
      if (this.#mode !== 'push') void this.#pollLoop();
    } catch (err) {
      if (isFatalError(err)) throw err;
      if (!isConnectivityError(err)) throw err;
      this.#log.warn({ err: (err as Error).message }, 'server unreachable; changes stay queued');
      await this.scanNow();
      this.#goOffline();
      // The long-poll waits while offline and starts listening once the server is back. Not starting it here
      // left a device that started during an outage hearing of other devices' changes only when the periodic
      // check noticed (multi-device seed 405: it never did, see #viewIsCurrent).
      if (this.#mode !== 'push') void this.#pollLoop();
    }
  }

  /**
   * One full sync: reconcile with the server, scan, send everything, verify the server mirrors the folder.
   * @throws ScannerError UNREACHABLE, UNAUTHORIZED, FORBIDDEN, SYNC_INCOMPLETE
   */
  async syncOnce(): Promise<SyncSummary> {
    this.#once = true;
    // Entries an earlier run gave up on are tried again before anything is reported about them.
    this.#queue.retryAllNow(Date.now());
    await this.#client.health();
    await this.#reconcile();
    await this.waitForIdle();
    if (this.#ownRevisions.size > 0 || this.#queue.size > 0) {
      // Verify against the server's journal (or a fresh manifest): anything still different, or changed
      // by someone else meanwhile, goes now. A first pass that sent nothing has nothing to verify.
      await this.#reconcile();
      await this.waitForIdle();
    }
    // Pull mode: local changes stay local on purpose; they are not a sync that failed.
    const pending = this.#mode === 'pull' ? 0 : this.#queue.size;
    if (pending > 0) {
      const first = [...this.#queue.entries()][0]!;
      throw new ScannerError('SYNC_INCOMPLETE', `${pending} path(s) could not be synced; first: ${first.path}: ${first.lastError ?? 'waiting'}`);
    }
    return this.summary();
  }

  /** Scans now (coalescing with a scan in progress) and resolves when that scan has queued its changes. */
  scanNow(): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    if (this.#scanRunning) {
      this.#scanAgain = true;
      return this.#scanRunning;
    }
    this.#scanRunning = (async () => {
      try {
        do {
          this.#scanAgain = false;
          await this.#scan();
        } while (this.#scanAgain && !this.#stopping);
      } catch (err) {
        if (isFatalError(err)) this.#fail(err as Error);
        else this.#log.error({ err: String(err) }, 'scan failed');
      } finally {
        this.#scanRunning = undefined;
        this.#dispatcher.pump();
        this.#checkIdle(); // a scan that queued nothing starts no round
      }
    })();
    return this.#scanRunning;
  }

  async #scan(): Promise<void> {
    if (this.#fatal) return;
    const warn = (message: string, details: Record<string, unknown>) => this.#warnOnce(message, details);
    const { changes, retrySoon, skipped } = await runScanPass(this.root, this.#state, this.#queue, this.#store, warn, this.#guards.scanGuards(), this.#takeListing());
    this.#skipped = skipped;
    if (changes > 0) this.#log.debug({ changes }, 'scan queued changes');
    if (!retrySoon) {
      this.#changingScans = 0;
      return;
    }
    this.#changingScans++;
    if (this.#once && this.#changingScans === ONCE_MAX_RESCANS) {
      this.#log.warn({ scans: ONCE_MAX_RESCANS }, 'a file kept changing while it was read: this run does not send it (the next one will)');
    }
    this.#scheduleRescan();
  }

  /** A worker thread listing the folder for the first scan; none when one cannot start (that scan walks). */
  #startListing(): { worker: ListingWorker; localWrites: number } | undefined {
    try {
      return { worker: new ListingWorker(this.root), localWrites: 0 };
    } catch (err) {
      this.#log.debug({ err: String(err) }, 'no listing worker; the first scan walks the folder');
      return undefined;
    }
  }

  /** The first scan's listing (see the constructor), unless the local rows changed since it started. */
  #takeListing(): TreeListing | undefined {
    const listing = this.#listing;
    if (listing === undefined) return undefined;
    this.#listing = undefined;
    if (this.#state.localWrites !== listing.localWrites) {
      listing.worker.close();
      return undefined;
    }
    return listing.worker.take();
  }

  #scheduleRescan(): void {
    if (this.#rescanTimer || this.#stopping) return;
    this.#rescanTimer = setTimeout(() => {
      this.#rescanTimer = undefined;
      void this.scanNow();
    }, 300);
  }

  #warnOnce(message: string, details: Record<string, unknown>): void {
    const key = `${message}:${String(details.path)}`;
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#log.warn(details, message);
  }

  /**
   * The periodic safety net: a full scan, then, when idle, a health check. A journal revision other than
   * the one this scanner's own writes led to means someone changed the server (or it lost its state):
   * reconcile, so the server goes back to mirroring the client. It also notices an outage while idle.
   */
  async #tick(): Promise<void> {
    await this.scanNow();
    if (this.#stopping || !this.#isIdle()) {
      this.#saidUpToDate = false;
      return;
    }
    try {
      const health = await this.#client.health();
      if ((health.revision !== this.#knownRevision || !this.#viewIsCurrent(health.revision) || this.#mergeAgain) && !this.#stopping && this.#isIdle()) {
        this.#log.info({ server: health.revision, known: this.#knownRevision }, 'the server changed outside this scanner; reconciling');
        this.#saidUpToDate = false;
        await this.#reconcile();
      } else if (!this.#saidUpToDate && this.#queue.size === 0) {
        // Once per return to rest, so a user watching the log knows the server now mirrors the folder.
        this.#saidUpToDate = true;
        this.#log.info({ revision: health.revision }, `up to date: the server mirrors ${this.root}`);
      }
    } catch (err) {
      if (isConnectivityError(err)) this.#goOffline(err as Error);
      else if (isFatalError(err)) this.#fail(err as Error);
      else this.#log.warn({ err: String(err) }, 'periodic check failed');
    }
  }

  /** Brings the remote view up to date, scans, and queues every difference (one at a time). */
  #reconcile(): Promise<void> {
    if (this.#reconcileRunning) return this.#reconcileRunning;
    this.#reconcileRunning = this.#reconcileOnce().finally(() => {
      this.#reconcileRunning = undefined;
    });
    return this.#reconcileRunning;
  }

  async #reconcileOnce(): Promise<void> {
    this.#reconciling = true;
    try {
      await this.#dispatcher.drain();
      await this.#checkNesting();
      // Joining: no merge with this server folder has completed yet. Not "the base is empty": an empty base
      // is also a joined device that has synced nothing yet, and a union merge then would make a conflict copy
      // of this device's own write saved again (docs/RELIABILITY.md, two-way self-conflict under load). A
      // device pointed at another server folder joins it: its base would delete here what that server lacks.
      if (this.#mode !== 'push') {
        const joined = this.#store.getMeta(JOINED_KEY);
        if (joined !== this.#joinKey()) {
          if (!this.#unionMerge && joined !== undefined) this.#log.warn({ server: this.#opts.server }, 'another server folder than the one this device synced with: joining it (a merge that deletes nothing)');
          this.#unionMerge = true;
          if (joined !== undefined) {
            // Nothing was agreed with this folder, and its journal is not the one the stored view follows:
            // forget the base and read its whole manifest.
            this.#state.clearBase();
            this.#viewRevision = undefined;
            this.#forgetSavedView();
          }
        }
      }
      const how = await this.#refreshRemote();
      if (how !== 'unchanged') this.#cache.retainOnly(this.#state.remoteHashes());
      // Two-way: nothing is sent before the merge has seen this scan (a new file may belong in a moved folder).
      if (this.#mode === 'push') this.#reconciling = false;
      await this.scanNow();
      if (this.#fatal) throw this.#fatal;
      if (this.#mode !== 'push') {
        await this.#merge();
        return;
      }
      const now = Date.now();
      const requests = diffForQueue(this.#state.local, this.#state.remote);
      this.#guardDeletes(requests);
      this.#store.transaction(() => {
        for (const r of requests) if (!this.#queue.get(r.path)) this.#queue.enqueue(r.path, now, r.kind, r.from);
      });
      this.#log.info({ remote: this.#state.remote.size, queued: this.#queue.size, from: how }, 'reconciled with the server');
    } finally {
      this.#reconciling = false;
      this.#dispatcher.pump();
    }
  }

  /**
   * Two-way and pull (docs/SYNC.md): plans the merge of local, remote and base, stops on a mass delete,
   * applies the pulls and queues the pushes.
   * @throws ScannerError MASS_DELETE (nothing was changed), UNREACHABLE
   */
  async #merge(): Promise<void> {
    const moves = this.#movedElsewhere.length === 0 ? this.#moves : [...this.#moves, ...this.#movedElsewhere.splice(0)];
    const actions = planMerge({ local: this.#state.local, remote: this.#state.remote, base: this.#state.base, moves, union: this.#unionMerge, refusedRevives: this.#refusedRevives });
    // The rows the plan saw, for the actions: scans may record local edits while they run, and each action checks
    // its row is still the planned one. Copied after planning (nothing ran in between: planMerge is synchronous),
    // and only when there is an action (a folder in step has none; copying 100,000 rows took 0.1-0.2 s).
    const local = new Map(actions.length === 0 ? undefined : this.#state.local);
    if (actions.length > 0 && this.#debug) this.#log.debug({ view: this.#viewRevision, actions: actions.slice(0, 200).map((a) => `${a.kind} ${a.path}${'from' in a ? ` <- ${a.from}` : ''}`) }, 'merge plan');
    const deletes = actions.filter((a) => a.kind === 'delete').length;
    let localFiles = 0;
    if (deletes > 0) for (const row of this.#state.local.values()) if (row.type === 'file') localFiles++;
    try {
      assertLocalDeleteShare(deletes, localFiles, { maxDeletePercent: this.#opts.maxDeletePercent, allowMassDelete: this.#opts.allowMassDelete });
    } catch (err) {
      this.#fail(err as Error);
      throw err;
    }
    const downloads = actions.filter((a) => a.kind === 'download').length;
    this.#pulls = { total: downloads, done: 0, bytes: 0, loggedAt: Date.now() };
    const result = await this.#merger.apply(actions, local);
    this.#moves = [];
    this.#unionMerge = false;
    if (this.#store.getMeta(JOINED_KEY) !== this.#joinKey()) this.#store.setMeta(JOINED_KEY, this.#joinKey());
    this.#mergeAgain = result.deferred > 0;
    if (this.#mergeAgain) this.#scheduleMerge(2_000);
    this.#client.sinceRevision = this.#viewRevision;
    if (actions.length > 0) {
      this.#log.info({ actions: actions.length, downloads, pulled: result.pulled, renamed: result.renamed, conflicts: result.conflicts, deferred: result.deferred, queued: this.#queue.size }, 'merged with the server');
    }
  }

  /**
   * Two-way: the remote view holds every change up to `revision`: each revision past the view's is one of this
   * scanner's own writes. Comparing `revision` with the last own write's alone is not enough: another device's
   * change between two own writes leaves the view short while the numbers agree (multi-device seed 405: a
   * device at rest, "up to date", missing another device's rename for good).
   */
  #viewIsCurrent(revision: number): boolean {
    if (this.#mode === 'push') return true;
    const view = this.#viewRevision;
    if (view === undefined) return true; // not known (a server without revisions): the revision check alone
    for (let r = view + 1; r <= revision; r++) if (!this.#ownRevisions.has(r)) return false;
    return true;
  }

  /** What JOINED_KEY holds for the server folder this scanner talks to. */
  #joinKey(): string {
    return this.#serverFolderId === undefined ? `url ${this.#opts.server}` : `folder ${this.#serverFolderId}`;
  }

  /** A progress line every 2 s while a merge downloads more than one file, and one at the end. */
  #notePulled(bytes: number): void {
    const p = this.#pulls;
    p.done++;
    p.bytes += bytes;
    const now = Date.now();
    if (p.total <= 1 || (p.done < p.total && now - p.loggedAt < 2_000)) return;
    p.loggedAt = now;
    this.#log.info({ done: p.done, total: p.total, bytes: p.bytes }, `downloading: ${p.done} of ${p.total} file(s), ${formatBytes(p.bytes)}`);
  }

  /**
   * The nesting guard, on every (re)connect: asks the server which folder it serves and refuses a client
   * folder that is it or lies inside it (the walk refuses one that contains it). A server without the
   * route is warned about once; nothing is sent before this check has run.
   * @throws ScannerError UNSAFE_FOLDER
   */
  async #checkNesting(): Promise<void> {
    const identity = await this.#client.folderIdentity();
    if (identity?.device) this.#device = identity.device;
    if (identity?.folderId) this.#serverFolderId = identity.folderId;
    if (identity?.readOnly === true && this.#mode !== 'pull') {
      this.#log.info({}, 'the token is read-only: download only (--mode pull)');
      this.#mode = 'pull';
    }
    let known: boolean;
    try {
      known = this.#guards.checkServer(identity);
    } catch (err) {
      this.#fail(err as Error);
      throw err;
    }
    if (!known) {
      this.#warnOnce('the server does not say which folder it serves (an older server): the scanner cannot check that the client folder is not inside it', { path: '' });
    }
  }

  /**
   * The mass-delete guard for a reconcile: the server files the client lacks (less those a move carries
   * away) against the limit. @throws ScannerError MASS_DELETE (the scanner stops; nothing is queued)
   */
  #guardDeletes(requests: ReadonlyArray<{ path: string; kind: string; from?: string }>): void {
    try {
      this.#guards.guardReconcile(this.#state.remote, this.#state.local, requests, this.#queue.entries());
    } catch (err) {
      this.#fail(err as Error);
      throw err;
    }
  }

  /**
   * Updates the remote view (nothing is in flight): from the journal when the view's revision is known and
   * few changes happened since, else from the whole manifest. Says which it took.
   */
  async #refreshRemote(): Promise<'unchanged' | 'journal' | 'manifest'> {
    const since = this.#viewRevision;
    if (since !== undefined) {
      // When the server says which records each write made, the own ones right after the view are in it
      // already (from their answers): the page starts after them. A first sync of many files read its own
      // writes back here (10,000 files: 2 MB, as a journal page and then the whole manifest).
      let start = since;
      if (this.#client.reportsRecorded) while (this.#ownRevisions.has(start + 1)) start++;
      const page = await this.#client.changes(start, JOURNAL_CATCHUP_MAX_CHANGES);
      // Pruned past our cursor, or another journal (the server lost its state): trust no base, delete nothing.
      if (page.expired === true || page.revision < since) this.#unionMerge = true;
      // A revision below ours means another journal (the server lost its state); a full page, too many changes.
      if (page.expired !== true && page.revision >= since && page.changes.length < JOURNAL_CATCHUP_MAX_CHANGES) {
        for (const c of page.changes) {
          if (c.op === 'move' && c.from !== undefined && !isOwnRecord(this.#ownRevisions, c)) this.#moves.push({ from: c.from.normalize('NFC'), to: c.path.normalize('NFC') });
        }
        if (page.changes.length === 0 && this.#ownRevisions.size === 0) {
          this.#setView(page.revision);
          return 'unchanged';
        }
        this.#forgetSavedView();
        const applied = this.#store.transaction(() => applyJournal(this.#state, page.changes, this.#ownRevisions));
        if (this.#debug) this.#log.debug({ since, revision: page.revision, records: page.changes.length, own: page.changes.filter((c) => isOwnRecord(this.#ownRevisions, c)).length, applied }, 'remote view from the journal');
        if (applied) {
          this.#setView(page.revision);
          return 'journal';
        }
      }
    }
    this.#forgetSavedView();
    const fresh = new Map<string, RemoteEntry>();
    for await (const entry of this.#client.manifest()) {
      const row = remoteOf(entry);
      fresh.set(row.path, row);
    }
    this.#state.replaceRemote(fresh);
    const revision = this.#client.lastManifestRevision;
    this.#log.debug({ revision, entries: this.#state.remote.size }, 'remote view from the manifest');
    if (revision === undefined) {
      this.#viewRevision = undefined;
      this.#ownRevisions.clear();
    } else this.#setView(revision);
    return 'manifest';
  }

  /** The remote view is exact at `revision` (nothing in flight): remember it, here and in the state. */
  #setView(revision: number): void {
    this.#viewRevision = revision;
    this.#knownRevision = revision;
    this.#ownRevisions.clear();
    this.#client.forgetRecordedUpTo(revision);
    const saved = `${revision} ${this.#opts.server}`;
    if (this.#savedView !== saved) this.#store.setMeta(VIEW_REVISION_KEY, saved);
    this.#savedView = saved;
  }

  /** The remote table is about to move past the stored revision: a crash from here on must not trust it. */
  #forgetSavedView(): void {
    if (this.#savedView === undefined) return;
    this.#store.setMeta(VIEW_REVISION_KEY, '');
    this.#savedView = undefined;
  }

  /** The stored view revision, when it was saved for this same server. */
  #loadViewRevision(): number | undefined {
    const stored = this.#store.getMeta(VIEW_REVISION_KEY) ?? '';
    const [revision, server] = stored.split(' ');
    const n = Number(revision);
    if (!revision || server !== this.#opts.server || !Number.isSafeInteger(n)) return undefined;
    this.#savedView = stored;
    return n;
  }

  #fail(err: Error): void {
    if (this.#fatal) return;
    this.#fatal = err;
    this.#onFatal(err);
    // --once reports the error itself (one line); a running scanner says why it stops.
    if (!this.#once) this.#log.error({ err: err.message }, 'stopping: cannot go on');
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }

  #goOffline(cause?: Error): void {
    if (this.#offline || this.#stopping) return;
    if (this.#once && cause) {
      this.#fail(cause);
      return;
    }
    this.#offline = true;
    this.#log.warn({ err: cause?.message }, 'server unreachable; changes stay queued until it is back');
    void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    for (let attempt = 1; !this.#stopping; attempt++) {
      await new Promise<void>((r) => {
        this.#reconnectTimer = setTimeout(r, backoffDelayMs(attempt));
      });
      if (this.#stopping) return;
      try {
        await this.#client.health();
        await this.#reconcile(); // still offline meanwhile: nothing is dispatched until it is done
        this.#offline = false;
        this.#log.info({}, 'server reachable again');
        this.#dispatcher.pump();
        return;
      } catch (err) {
        if (isFatalError(err)) return this.#fail(err as Error);
      }
    }
  }

  #isIdle(): boolean {
    if (this.#dispatcher.jobs > 0 || this.#offline || this.#reconciling || this.#scanRunning) return false;
    // --once: a file that changed while the scan read it is scanned again shortly; the run waits for that.
    if (this.#once && this.#rescanTimer !== undefined && this.#changingScans > 0 && this.#changingScans < ONCE_MAX_RESCANS) return false;
    if (this.#queue.size === 0 || this.#mode === 'pull') return true;
    if (!this.#once) return false;
    // --once: entries that kept failing for their own reasons do not hold the run forever.
    for (const entry of this.#queue.entries()) if (entry.attempts < ONCE_MAX_ATTEMPTS) return false;
    return true;
  }

  #checkIdle(): void {
    if (this.#waiters.length === 0 || !this.#isIdle()) return;
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  /** Resolves when nothing is queued or in flight (rejects on a fatal error, or, with --once, going offline). */
  waitForIdle(): Promise<void> {
    if (this.#fatal) return Promise.reject(this.#fatal);
    return new Promise((resolveIdle, rejectIdle) => {
      this.#waiters.push({ resolve: resolveIdle, reject: rejectIdle });
      this.#dispatcher.pump();
      this.#checkIdle();
    });
  }

  /** Counters for the summary line. */
  summary(): SyncSummary {
    const c: TransferCounters = this.#transfer.counters;
    const wire = this.#client.wire.totals();
    return {
      filesChanged: c.changedPaths,
      bytesChanged: c.changedBytes,
      sentBytes: wire.sentBytes,
      receivedBytes: wire.receivedBytes,
      requests: this.#client.requestCount,
      elapsedMs: Date.now() - this.#startedAt,
      uploads: c.uploads,
      deltas: c.deltas,
      moves: c.moves,
      deletes: c.deletes,
      pending: this.#queue.size,
      skipped: this.#skipped,
    };
  }

  /** What the progress display shows. */
  progress(): ProgressSnapshot {
    let pendingBytes = 0;
    let deltaPaths = 0;
    for (const entry of this.#queue.entries()) {
      const left = this.#queue.isInFlight(entry.path) ? this.#sendingLeft.get(entry.path) : undefined;
      if (left !== undefined) {
        pendingBytes += left;
        continue;
      }
      const local = this.#state.local.get(entry.path);
      if (local?.type !== 'file') continue;
      const remote = this.#state.remote.get(entry.path);
      // A modified file goes as a delta whose size is known only once computed: not counted as its size.
      if (!this.#opts.fullUploads && remote?.type === 'file' && remote.hash !== undefined && local.size >= SMALL_DELTA_MIN_BYTES) deltaPaths++;
      else pendingBytes += local.size;
    }
    for (const path of this.#sendingLeft.keys()) if (!this.#queue.isInFlight(path)) this.#sendingLeft.delete(path);
    return {
      pendingPaths: this.#queue.size,
      pendingBytes,
      deltaPaths,
      inFlight: this.#dispatcher.jobs,
      sentFileBytes: this.#sentFileBytes,
      offline: this.#offline,
    };
  }

  /** The queue as it stands (for status displays and diagnostics). */
  pendingEntries(): Array<{ path: string; kind: string; from?: string; attempts: number; lastError?: string; step: string }> {
    const ctx = this.#dispatcher.planContext();
    return [...this.#queue.entries()].map((e) => ({
      path: e.path,
      kind: e.kind,
      ...(e.from === undefined ? {} : { from: e.from }),
      attempts: e.attempts,
      ...(e.lastError === undefined ? {} : { lastError: e.lastError }),
      step: planStep(e, ctx).type,
    }));
  }

  /** Wire byte totals so far (both directions). */
  wireTotals(): { sentBytes: number; receivedBytes: number } {
    return this.#client.wire.totals();
  }

  /**
   * Stops timers and the watcher, lets in-flight transfers finish (up to `graceMs`, then they are cut and
   * stay queued), and closes the state. Safe to call twice.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const t of [this.#rescanTimer, this.#reconnectTimer, this.#mergeTimer]) if (t) clearTimeout(t);
    await this.#pollClient.destroy().catch(() => {});
    if (this.#intervalTimer) clearInterval(this.#intervalTimer);
    this.#watcher?.close();
    this.#listing?.worker.close();
    this.#dispatcher.close();
    await this.#reconcileRunning?.catch(() => {});
    await this.#scanRunning?.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#dispatcher.drain(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    if (timer) clearTimeout(timer);
    if (this.#dispatcher.jobs > 0) {
      // Cut what did not finish in time: those entries stay queued and go out on the next start.
      await this.#client.destroy();
      await this.#dispatcher.drain();
    }
    await this.#client.close().catch(() => {});
    this.#store.close();
    this.#unlock();
    // Refused as the server's folder or inside it: leave nothing of ours in the server's folder.
    this.#guards.cleanUp();
    for (const w of this.#waiters.splice(0)) w.reject(new ScannerError('SYNC_INCOMPLETE', 'scanner stopped'));
  }
}
