/**
 * The scanner: wires detect -> queue -> transfer. It owns the timers (periodic scan, watcher, retry
 * wake-ups), the dispatch of up to `concurrency` transfers, going offline and reconciling on reconnect,
 * and shutdown. What changed is decided by change-detector.ts, what to send by transfer-plan.ts, how by
 * transfer.ts; this file only decides when.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { STATE_DIR } from '@deltabox/protocol';
import { ApiClient } from './api-client.js';
import { backoffDelayMs } from './backoff.js';
import { BasisCache } from './basis-cache.js';
import { classifyChanges, planScan, type HashedEntry } from './change-detector.js';
import {
  BATCH_MAX_BYTES,
  BATCH_MAX_FILES,
  CACHE_DIR,
  DEFAULT_CACHE_BUDGET_BYTES,
  DEFAULT_CONCURRENCY,
  DEFAULT_INTERVAL_MS,
  INLINE_MAX_BYTES,
  ONCE_MAX_ATTEMPTS,
  TMP_DIR,
} from './constants.js';
import { isConnectivityError, isFatalError, ScannerError } from './errors.js';
import { hashFileStable } from './file-reader.js';
import { lockFolder } from './folder-lock.js';
import { loadIgnoreRules } from './ignore-rules.js';
import { silentLogger, type Logger } from './logger.js';
import { OpQueue, type QueueEntry } from './op-queue.js';
import { diffForQueue } from './reconcile-plan.js';
import { StateStore } from './state-store.js';
import { remoteOf, SyncState } from './sync-state.js';
import { Transfer, type TransferCounters } from './transfer.js';
import { planStep, type PlanContext, type Step } from './transfer-plan.js';
import { walkedEntryOf, walkTree } from './tree-walk.js';
import { watchFolder, type FolderWatcher } from './watcher.js';

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
  logger?: Logger;
}

export interface SyncSummary {
  /** Paths the server was changed for. */
  filesChanged: number;
  /** Bytes of file content that became current on the server. */
  bytesChanged: number;
  /** Bytes on the wire, both directions, headers included. */
  sentBytes: number;
  receivedBytes: number;
  elapsedMs: number;
  uploads: number;
  deltas: number;
  moves: number;
  deletes: number;
  /** Entries still queued (e.g. failing). */
  pending: number;
}

export interface ProgressSnapshot {
  pendingPaths: number;
  pendingBytes: number;
  inFlight: number;
  sentFileBytes: number;
  offline: boolean;
}

type Waiter = { resolve: () => void; reject: (err: Error) => void };

export class Scanner {
  readonly root: string;
  readonly #stateDir: string;
  readonly #tmpDir: string;
  readonly #opts: Required<Omit<ScannerOptions, 'ca' | 'logger'>>;
  readonly #log: Logger;
  readonly #store: StateStore;
  readonly #state: SyncState;
  readonly #queue: OpQueue;
  readonly #cache: BasisCache;
  readonly #client: ApiClient;
  readonly #transfer: Transfer;
  readonly #startedAt = Date.now();
  #jobs = 0;
  #offline = false;
  #stopping = false;
  #once = false;
  #reconciling = false;
  #scanRunning: Promise<void> | undefined;
  #scanAgain = false;
  #sentFileBytes = 0;
  #wakeTimer: NodeJS.Timeout | undefined;
  #intervalTimer: NodeJS.Timeout | undefined;
  #rescanTimer: NodeJS.Timeout | undefined;
  #watcher: FolderWatcher | undefined;
  #waiters: Waiter[] = [];
  #jobsDone: Array<() => void> = [];
  #warned = new Set<string>();
  #fatal: Error | undefined;
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
    };
    this.#log = options.logger ?? silentLogger;
    mkdirSync(this.#tmpDir, { recursive: true });
    this.#unlock = lockFolder(this.#stateDir);
    for (const name of readdirSync(this.#tmpDir)) rmSync(join(this.#tmpDir, name), { force: true, recursive: true });
    this.#store = new StateStore(this.#stateDir);
    this.#state = new SyncState(this.#store);
    this.#queue = new OpQueue(this.#store.loadQueue(), this.#store);
    this.#cache = new BasisCache(join(this.#stateDir, CACHE_DIR), this.#store, this.#opts.cacheBudgetBytes);
    this.#client = new ApiClient({ baseUrl: options.server, token: options.token, ...(options.ca === undefined ? {} : { ca: options.ca }) });
    const queue = this.#queue;
    this.#transfer = new Transfer({
      root: this.root,
      tmpDir: this.#tmpDir,
      client: this.#client,
      state: this.#state,
      cache: this.#cache,
      plan: this.#planContext(),
      onMoveFailed: (path, from) => {
        const now = Date.now();
        queue.demoteMove(path);
        queue.enqueue(from, now);
        // A folder move that failed: its contents were never queued on their own; queue them now.
        for (const p of this.#state.local.keys()) if (p.startsWith(`${path}/`)) queue.enqueue(p, now);
      },
      onBytes: (n) => {
        this.#sentFileBytes += n;
      },
    });
  }

  /** Runs until stop(): reconciles, scans every interval and on watcher events, retries while offline. */
  async start(): Promise<void> {
    this.#intervalTimer = setInterval(() => void this.scanNow(), this.#opts.intervalMs);
    if (this.#opts.watch) {
      this.#watcher = watchFolder(
        this.root,
        () => void this.scanNow(),
        (err) => this.#log.warn({ err: err.message }, 'file watcher failed; relying on the periodic scan'),
      );
    }
    try {
      await this.#client.health();
      await this.#reconcile();
    } catch (err) {
      if (isFatalError(err)) throw err;
      if (!isConnectivityError(err)) throw err;
      this.#log.warn({ err: (err as Error).message }, 'server unreachable; changes stay queued');
      await this.scanNow();
      this.#goOffline();
    }
  }

  /**
   * One full sync: reconcile with the server, scan, send everything, verify the server mirrors the folder.
   * @throws ScannerError UNREACHABLE, UNAUTHORIZED, FORBIDDEN, SYNC_INCOMPLETE
   */
  async syncOnce(): Promise<SyncSummary> {
    this.#once = true;
    await this.#client.health();
    await this.#reconcile();
    await this.waitForIdle();
    // Verify against a fresh manifest: anything still different (or changed meanwhile) goes now.
    await this.#reconcile();
    await this.waitForIdle();
    const pending = this.#queue.size;
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
        this.#log.error({ err: String(err) }, 'scan failed');
      } finally {
        this.#scanRunning = undefined;
        this.#pump();
      }
    })();
    return this.#scanRunning;
  }

  async #scan(): Promise<void> {
    const startedMs = Date.now();
    const warn = (message: string, details: Record<string, unknown>) => this.#warnOnce(message, details);
    const walk = walkTree(this.root, loadIgnoreRules(this.root), warn);
    const plan = planScan(this.#state.local, walk);
    const hashed: HashedEntry[] = [];
    let retrySoon = false;
    for (const entry of plan.changed) {
      if (entry.type === 'dir') {
        hashed.push(entry);
        continue;
      }
      try {
        const { hash, stat } = await hashFileStable(join(this.root, entry.diskPath));
        hashed.push({ ...walkedEntryOf(entry.path, entry.diskPath, stat), hash });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'FILE_CHANGED' || code === 'ENOENT') retrySoon = true;
        else warn('unreadable file skipped', { path: entry.path, err: String(err) });
      }
    }
    const outcome = classifyChanges(this.#state.local, hashed, plan.removed, startedMs);
    const now = Date.now();
    this.#store.transaction(() => {
      this.#state.applyScan(outcome);
      for (const change of outcome.changes) {
        this.#queue.enqueue(change.path, now, change.kind === 'moved' ? 'move' : 'sync', change.from);
      }
    });
    if (outcome.changes.length > 0) this.#log.debug({ changes: outcome.changes.length }, 'scan queued changes');
    if (retrySoon) this.#scheduleRescan();
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

  /** Fetches the manifest, replaces the remote view, scans, and queues every difference. */
  async #reconcile(): Promise<void> {
    this.#reconciling = true;
    try {
      await this.#drainJobs();
      const rows = [];
      for await (const entry of this.#client.manifest()) rows.push(remoteOf(entry));
      this.#state.replaceRemote(rows);
      this.#cache.retainOnly(this.#state.remoteHashes());
      this.#reconciling = false;
      await this.scanNow();
      const now = Date.now();
      const requests = diffForQueue(this.#state.local, this.#state.remote);
      this.#store.transaction(() => {
        for (const r of requests) if (!this.#queue.get(r.path)) this.#queue.enqueue(r.path, now, r.kind, r.from);
      });
      this.#log.info({ files: rows.length, queued: this.#queue.size }, 'reconciled with the server');
    } finally {
      this.#reconciling = false;
      this.#pump();
    }
  }

  #drainJobs(): Promise<void> {
    if (this.#jobs === 0) return Promise.resolve();
    return new Promise((resolveDrain) => this.#jobsDone.push(resolveDrain));
  }

  /** Dispatches due entries until `concurrency` jobs run; schedules the next wake-up. */
  #pump(): void {
    if (this.#stopping || this.#offline || this.#reconciling || this.#fatal) return;
    const now = Date.now();
    const ready = this.#queue.ready(now);
    const taken = new Set<string>();
    for (const entry of ready) {
      if (this.#jobs >= this.#opts.concurrency) break;
      if (taken.has(entry.path)) continue;
      const step = planStep(entry, this.#planContext());
      if (step.type === 'noop') {
        this.#queue.complete(entry.path, entry.generation);
        continue;
      }
      if (step.type === 'blocked') continue;
      if (this.#batchable(step)) {
        const group = [entry];
        let bytes = step.local.size;
        for (const other of ready) {
          if (group.length >= BATCH_MAX_FILES) break;
          if (other === entry || taken.has(other.path)) continue;
          const s = planStep(other, this.#planContext());
          if (!this.#batchable(s) || bytes + s.local.size > BATCH_MAX_BYTES) continue;
          group.push(other);
          bytes += s.local.size;
        }
        for (const g of group) taken.add(g.path);
        this.#startBatch(group);
      } else {
        taken.add(entry.path);
        this.#startJob(entry);
      }
    }
    this.#scheduleWake();
    this.#checkIdle();
  }

  #planContext(): PlanContext {
    const queue = this.#queue;
    return {
      local: this.#state.local,
      remote: this.#state.remote,
      hasMoveFrom: (p, below, except) => queue.hasMoveFrom(p, below, except),
      hasMoveAbove: (p) => queue.hasMoveAbove(p),
    };
  }

  #batchable(step: Step): step is Extract<Step, { type: 'upload' }> {
    return step.type === 'upload' && step.base === undefined && step.local.size <= INLINE_MAX_BYTES;
  }

  #startJob(entry: QueueEntry): void {
    const generation = this.#queue.begin(entry.path);
    this.#jobs++;
    const work = { path: entry.path, kind: entry.kind, ...(entry.from === undefined ? {} : { from: entry.from }) };
    void this.#transfer
      .syncPath(work)
      .then(
        () => this.#queue.complete(entry.path, generation),
        (err) => this.#onFailure(entry.path, generation, err),
      )
      .finally(() => this.#jobFinished());
  }

  #startBatch(entries: QueueEntry[]): void {
    const generations = new Map(entries.map((e) => [e.path, this.#queue.begin(e.path)]));
    this.#jobs++;
    const locals = entries.map((e) => this.#state.local.get(e.path)!);
    void this.#transfer
      .syncBatch(locals)
      .then(
        (outcomes) => {
          for (const o of outcomes) {
            const gen = generations.get(o.path)!;
            if (o.ok) this.#queue.complete(o.path, gen);
            else this.#onFailure(o.path, gen, o.error);
            generations.delete(o.path);
          }
          for (const [path] of generations) this.#queue.release(path);
        },
        (err) => {
          for (const [path, gen] of generations) this.#onFailure(path, gen, err);
        },
      )
      .finally(() => this.#jobFinished());
  }

  #jobFinished(): void {
    this.#jobs--;
    if (this.#jobs === 0) for (const done of this.#jobsDone.splice(0)) done();
    this.#pump();
  }

  #onFailure(path: string, generation: number, err: unknown): void {
    if (isConnectivityError(err)) {
      this.#queue.release(path);
      this.#goOffline(err as Error);
      return;
    }
    if (isFatalError(err)) {
      this.#queue.release(path);
      this.#fail(err as Error);
      return;
    }
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT') {
      // Gone since the scan: the rescan records the deletion and queues it.
      this.#queue.complete(path, generation);
      this.#scheduleRescan();
      return;
    }
    const entry = this.#queue.fail(path, generation, Date.now(), (err as Error).message ?? String(err));
    if (code === 'FILE_CHANGED') this.#scheduleRescan();
    else this.#log.warn({ path, attempts: entry?.attempts, err: (err as Error).message }, 'transfer failed; will retry');
  }

  #fail(err: Error): void {
    if (this.#fatal) return;
    this.#fatal = err;
    this.#onFatal(err);
    this.#log.error({ err: err.message }, 'stopping: cannot go on');
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
        this.#wakeTimerOffline = setTimeout(r, backoffDelayMs(attempt));
      });
      if (this.#stopping) return;
      try {
        await this.#client.health();
        this.#offline = false;
        await this.#reconcile();
        this.#log.info({}, 'server reachable again');
        return;
      } catch (err) {
        if (isFatalError(err)) return this.#fail(err as Error);
        this.#offline = true;
      }
    }
  }

  #wakeTimerOffline: NodeJS.Timeout | undefined;

  #scheduleWake(): void {
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    if (this.#stopping) return;
    // Entries due now were just offered; a finishing job or a scan pumps again for them.
    const next = this.#queue.nextWakeMs(Date.now());
    if (next === undefined) return;
    this.#wakeTimer = setTimeout(() => this.#pump(), Math.max(5, next - Date.now()));
  }

  #isIdle(): boolean {
    if (this.#jobs > 0 || this.#offline || this.#reconciling || this.#scanRunning) return false;
    if (this.#queue.size === 0) return true;
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
      this.#pump();
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
      elapsedMs: Date.now() - this.#startedAt,
      uploads: c.uploads,
      deltas: c.deltas,
      moves: c.moves,
      deletes: c.deletes,
      pending: this.#queue.size,
    };
  }

  /** What the progress display shows. */
  progress(): ProgressSnapshot {
    let pendingBytes = 0;
    for (const entry of this.#queue.entries()) pendingBytes += this.#state.local.get(entry.path)?.size ?? 0;
    return {
      pendingPaths: this.#queue.size,
      pendingBytes,
      inFlight: this.#jobs,
      sentFileBytes: this.#sentFileBytes,
      offline: this.#offline,
    };
  }

  /** The queue as it stands (for status displays and diagnostics). */
  pendingEntries(): Array<{ path: string; kind: string; from?: string; attempts: number; lastError?: string; step: string }> {
    const ctx = this.#planContext();
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
    for (const t of [this.#wakeTimer, this.#rescanTimer, this.#wakeTimerOffline]) if (t) clearTimeout(t);
    if (this.#intervalTimer) clearInterval(this.#intervalTimer);
    this.#watcher?.close();
    await this.#scanRunning?.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#drainJobs(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    if (timer) clearTimeout(timer);
    if (this.#jobs > 0) {
      // Cut what did not finish in time: those entries stay queued and go out on the next start.
      await this.#client.destroy();
      await this.#drainJobs();
    }
    await this.#client.close().catch(() => {});
    this.#store.close();
    this.#unlock();
    for (const w of this.#waiters.splice(0)) w.reject(new ScannerError('SYNC_INCOMPLETE', 'scanner stopped'));
  }
}
