/**
 * Online pruning of version history and of the change journal (records older than the journal's retention).
 * Version history: applies the retention function (retention.ts) to the versions table
 * on a timer and shortly after writes that add versions, deleting at most `maxRowsPerRun` rows per run
 * (another run follows at once when more are due), then removing the objects no row references and nothing
 * pins (version-keeper.ts). At startup, objects without a row (a crash between storing an object and
 * committing its row) are swept.
 */
import type { Mirror } from '../mirror.js';
import { keep, type RetentionPolicy } from './retention.js';

export interface PruneResult {
  rows: number;
  objects: number;
}

export interface PrunerOptions {
  policy: RetentionPolicy;
  /** Period of the timer. */
  intervalMs: number;
  /** Delay between a write that added versions and the run it triggers (writes in a burst share one run). */
  afterWriteMs: number;
  maxRowsPerRun: number;
}

/** Journal records deleted per run: a primary-key range, ~10 ms, so a run never holds the database long. */
const JOURNAL_ROWS_PER_RUN = 10_000;

export const DEFAULT_PRUNER: Omit<PrunerOptions, 'policy'> = { intervalMs: 10 * 60_000, afterWriteMs: 2000, maxRowsPerRun: 1000 };

export class Pruner {
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #running: Promise<PruneResult> | undefined;
  #stopped = false;
  /** Unreferenced objects a reader pinned when a run wanted them gone: every run tries them again. */
  readonly #deferred = new Set<string>();

  constructor(
    readonly mirror: Mirror,
    readonly options: PrunerOptions,
  ) {}

  /** Starts the timer and the after-write trigger. */
  start(): void {
    this.#timer = setInterval(() => this.#background(), this.options.intervalMs).unref();
    this.mirror.onVersioned = () => this.#schedule(this.options.afterWriteMs);
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.mirror.onVersioned = () => {};
  }

  /** Resolves when no run is in progress (for a clean shutdown). */
  async idle(): Promise<void> {
    await this.#running?.catch(() => undefined);
  }

  #schedule(delayMs: number): void {
    if (this.#soon || this.#stopped) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      this.#background();
    }, delayMs).unref();
  }

  #background(): void {
    this.run().then(
      (r) => {
        if (r.rows >= this.options.maxRowsPerRun) this.#schedule(0);
      },
      () => undefined, // a failed run (disk error) is retried by the next one; the history stays as it was
    );
  }

  /** One bounded run at the mirror's clock; runs never overlap. */
  run(): Promise<PruneResult> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * Prunes journal records older than `limits.journalRetentionMs` at the mirror's clock (at most
   * JOURNAL_ROWS_PER_RUN; every run does it first). Returns how many went.
   */
  pruneJournal(): number {
    const { journal, limits } = this.mirror;
    return journal.prune(this.mirror.now() - limits.journalRetentionMs, JOURNAL_ROWS_PER_RUN);
  }

  async #run(): Promise<PruneResult> {
    if (this.pruneJournal() >= JOURNAL_ROWS_PER_RUN) this.#schedule(0); // more are due: another run at once
    const { versions, keeper } = this.mirror;
    const rows = versions.all();
    const kept = keep(rows, this.mirror.now(), this.options.policy);
    const drop = rows.filter((v) => !kept.has(v.id)).slice(0, this.options.maxRowsPerRun);
    let objects = 0;
    for (const hash of [...this.#deferred, ...versions.remove(drop.map((v) => v.id))]) {
      this.#deferred.delete(hash);
      if (await keeper.removeIfUnused(hash)) objects++;
      else if (keeper.isPinned(hash) && !versions.isReferenced(hash)) this.#deferred.add(hash);
    }
    return { rows: drop.length, objects };
  }

  /** Removes objects no row references (startup, before any write runs). Returns how many. */
  async sweepOrphans(): Promise<number> {
    let removed = 0;
    for await (const hash of this.mirror.storage.listVersions()) {
      if (await this.mirror.keeper.removeIfUnused(hash)) removed++;
    }
    return removed;
  }
}
