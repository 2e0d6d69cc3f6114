/**
 * Dispatch: offers due queue entries to the transfer, up to `concurrency` jobs at once, grouping small new
 * files into batches, and turns each job's outcome into a queue update (complete, retry with backoff,
 * release). Connectivity loss, fatal errors and files that changed are handed to the scanner's hooks; this
 * module never decides to go offline or to scan on its own.
 */
import { BATCH_MAX_BYTES, BATCH_MAX_FILES } from '../constants.js';
import { isConnectivityError, isFatalError, type ScannerError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { OpQueue, QueueEntry } from './op-queue.js';
import type { SyncState } from '../state/sync-state.js';
import type { Transfer } from '../transfer/transfer.js';
import { planStep, type PlanContext } from '../transfer/transfer-plan.js';

/**
 * How many due entries past a small file a round looks through for batch partners: enough to fill a
 * batch among mixed sizes, bounded so a queue of large files behind it is not walked on every pump.
 */
const BATCH_LOOKAHEAD = 4 * BATCH_MAX_FILES;

export interface DispatcherHooks {
  /** False while offline, reconciling, stopping or failed: nothing is dispatched. */
  canDispatch(): boolean;
  onConnectivityLost(err: Error): void;
  onFatal(err: Error): void;
  /** A file changed while it was read, or vanished: the caller rescans soon. */
  onNeedsRescan(): void;
  /**
   * A path (and a move's source) is in step with the server now: two-way sync settles its base. `pushed`:
   * the server acknowledged a write of ours (the remote view holds what we sent, even when the folder has
   * moved on since); false for a step that found nothing to send.
   */
  onSynced?(path: string, from: string | undefined, pushed: boolean): void;
  /** Two-way: the server changed a queued path since the last merge; the entry is dropped, a merge is due. */
  onRemoteChanged?(path: string): void;
  /** Called after every dispatch round (the scanner checks for idleness). */
  onRound(): void;
}

export class Dispatcher {
  readonly #queue: OpQueue;
  readonly #state: SyncState;
  readonly #transfer: () => Transfer;
  readonly #concurrency: number;
  readonly #hooks: DispatcherHooks;
  readonly #log: Logger;
  #jobs = 0;
  #drained: Array<() => void> = [];
  #wakeTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(queue: OpQueue, state: SyncState, transfer: () => Transfer, concurrency: number, hooks: DispatcherHooks, log: Logger) {
    this.#queue = queue;
    this.#state = state;
    this.#transfer = transfer;
    this.#concurrency = concurrency;
    this.#hooks = hooks;
    this.#log = log;
  }

  /** Jobs in flight (a batch is one job). */
  get jobs(): number {
    return this.#jobs;
  }

  /** The view transfer-plan.ts decides from. */
  planContext(): PlanContext {
    const queue = this.#queue;
    return {
      local: this.#state.local,
      remote: this.#state.remote,
      base: this.#state.base,
      hasMoveFrom: (p, below, except) => queue.hasMoveFrom(p, below, except),
      hasMoveAbove: (p) => queue.hasMoveAbove(p),
      hasMoveInto: (p) => queue.hasMoveInto(p),
    };
  }

  /** Resolves once no job is in flight. */
  drain(): Promise<void> {
    if (this.#jobs === 0) return Promise.resolve();
    return new Promise((resolveDrain) => this.#drained.push(resolveDrain));
  }

  /** Stops scheduling wake-ups (jobs in flight still finish). */
  close(): void {
    this.#closed = true;
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
  }

  /**
   * Dispatches due entries until `concurrency` jobs run; schedules the next wake-up. It looks only at the
   * entries it needs (oldest first, plus a bounded look-ahead for batch partners), never the whole queue:
   * every finished job pumps again, so a walk of the queue here would make a big sync quadratic.
   */
  pump(): void {
    if (this.#closed || !this.#hooks.canDispatch()) return;
    const ctx = this.planContext();
    const round = this.#queue.openRound(Date.now());
    const pulled: QueueEntry[] = [];
    const at = (i: number): QueueEntry | undefined => {
      while (pulled.length <= i) {
        const entry = round.next();
        if (entry === undefined) return undefined;
        pulled.push(entry);
      }
      return pulled[i];
    };
    const taken = new Set<string>();
    try {
      for (let i = 0; this.#jobs < this.#concurrency; i++) {
        const entry = at(i);
        if (entry === undefined) break;
        if (taken.has(entry.path)) continue;
        if (this.#transfer().isDeadFolderMove(entry)) this.#queue.demoteMove(entry.path);
        if (!this.#transfer().isBaseCurrent(entry)) {
          // Two-way: the server changed it since the last merge; the merge decides (and re-queues) it.
          this.#queue.complete(entry.path, entry.generation);
          this.#hooks.onRemoteChanged?.(entry.path);
          continue;
        }
        const step = planStep(entry, ctx);
        if (step.type === 'noop') {
          this.#queue.complete(entry.path, entry.generation);
          this.#hooks.onSynced?.(entry.path, entry.from, false);
          continue;
        }
        if (step.type === 'blocked') continue;
        if (this.#transfer().batchable(step)) {
          const group = [entry];
          let bytes = step.local.size;
          for (let j = i + 1; group.length < BATCH_MAX_FILES && j <= i + BATCH_LOOKAHEAD; j++) {
            const other = at(j);
            if (other === undefined) break;
            if (taken.has(other.path)) continue;
            if (!this.#transfer().isBaseCurrent(other)) continue; // two-way: merged first, on its own turn
            const s = planStep(other, ctx);
            if (!this.#transfer().batchable(s) || bytes + s.local.size > BATCH_MAX_BYTES) continue;
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
    } finally {
      round.close();
    }
    this.#scheduleWake();
    this.#hooks.onRound();
  }

  #scheduleWake(): void {
    if (this.#wakeTimer) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
    // Entries due now were just offered; a finishing job or a scan pumps again for them.
    const next = this.#queue.nextWakeMs(Date.now());
    if (next === undefined || this.#closed) return;
    this.#wakeTimer = setTimeout(() => this.pump(), Math.max(5, next - Date.now()));
  }

  #startJob(entry: QueueEntry): void {
    const generation = this.#queue.begin(entry.path);
    this.#jobs++;
    const work = { path: entry.path, kind: entry.kind, ...(entry.from === undefined ? {} : { from: entry.from }) };
    void this.#transfer()
      .syncPath(work)
      .then(
        () => {
          this.#queue.complete(entry.path, generation);
          this.#hooks.onSynced?.(entry.path, work.from, true);
        },
        (err) => this.#onFailure(entry.path, generation, err),
      )
      .finally(() => this.#jobFinished());
  }

  #startBatch(entries: QueueEntry[]): void {
    const generations = new Map(entries.map((e) => [e.path, this.#queue.begin(e.path)]));
    this.#jobs++;
    const locals = entries.map((e) => this.#state.local.get(e.path)!);
    void this.#transfer()
      .syncBatch(locals)
      .then(
        (outcomes) =>
          this.#state.transaction(() => {
            for (const o of outcomes) {
              const gen = generations.get(o.path);
              if (gen === undefined) continue;
              if (o.ok) {
                this.#queue.complete(o.path, gen);
                this.#hooks.onSynced?.(o.path, undefined, true);
              }
              else this.#onFailure(o.path, gen, o.error);
              generations.delete(o.path);
            }
            for (const [path] of generations) this.#queue.release(path);
          }),
        (err) => {
          for (const [path, gen] of generations) this.#onFailure(path, gen, err);
        },
      )
      .finally(() => this.#jobFinished());
  }

  #jobFinished(): void {
    this.#jobs--;
    if (this.#jobs === 0) for (const done of this.#drained.splice(0)) done();
    this.pump();
  }

  #onFailure(path: string, generation: number, err: unknown): void {
    if (isConnectivityError(err)) {
      this.#queue.release(path);
      this.#hooks.onConnectivityLost(err as Error);
      return;
    }
    if (isFatalError(err)) {
      this.#queue.release(path);
      this.#hooks.onFatal(err as Error);
      return;
    }
    const code = (err as { code?: string }).code;
    if (code === 'REMOTE_CHANGED') {
      // Dropped (the merge re-queues what still differs), or held for a retry after the merge.
      if ((err as ScannerError).holdEntry === true) this.#queue.fail(path, generation, Date.now(), (err as Error).message);
      else this.#queue.complete(path, generation);
      this.#hooks.onRemoteChanged?.(path);
      return;
    }
    if (code === 'ENOENT') {
      // Gone since the scan: the rescan records the deletion and queues it.
      this.#queue.complete(path, generation);
      this.#hooks.onNeedsRescan();
      return;
    }
    const entry = this.#queue.fail(path, generation, Date.now(), (err as Error).message ?? String(err));
    if (code === 'FILE_CHANGED') this.#hooks.onNeedsRescan();
    else this.#log.warn({ path, attempts: entry?.attempts, err: (err as Error).message }, 'transfer failed; will retry');
  }
}
