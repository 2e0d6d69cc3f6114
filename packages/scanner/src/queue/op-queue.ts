/**
 * The durable queue of pending operations, one entry per path (coalescing: however often a path changes
 * while it waits, it is one entry and one transfer of its latest content). It only orders and times entries;
 * what an entry means is decided at dispatch time from the local and remote state (transfer-plan.ts). Every
 * mutation is written through `QueuePersistence`, so a restart resumes exactly here. Time is passed in.
 */
import { backoffDelayMs, type BackoffBounds } from './backoff.js';
import { BACKOFF_MAX_MS, BACKOFF_MIN_MS } from '../constants.js';
import { MinHeap } from './min-heap.js';

/** `sync`: make the server's entry equal the local one. `move`: same, trying a server-side move from `from` first. */
export type QueueKind = 'sync' | 'move';

export interface QueueEntry {
  path: string;
  kind: QueueKind;
  from?: string;
  /**
   * Bumped by every enqueue that finds the entry in flight or changes it: a completion only removes the entry
   * if nothing was enqueued meanwhile.
   */
  generation: number;
  /** Failures for the entry's own reasons since it was last enqueued. */
  attempts: number;
  /** Not dispatched before this time. */
  nextAtMs: number;
  /** FIFO order of first enqueue. */
  seq: number;
  lastError?: string;
}

export interface QueuePersistence {
  save(entry: QueueEntry): void;
  remove(path: string): void;
}

/**
 * One dispatch round over the due entries (see OpQueue.openRound): `next()` hands them out oldest first,
 * each once; `close()` puts back those the round did not start or complete.
 */
export interface DueRound {
  next(): QueueEntry | undefined;
  close(): void;
}

/** An entry's due time as it was when the entry went into the timer heap (a later change makes it stale). */
interface TimerNode {
  atMs: number;
  entry: QueueEntry;
}

export interface OpQueueOptions {
  random?: () => number;
  backoff?: BackoffBounds;
}

export class OpQueue {
  readonly #entries = new Map<string, QueueEntry>();
  readonly #inFlight = new Set<string>();
  /** Paths of `move` entries, so the move checks below do not walk the whole queue. */
  readonly #moves = new Set<string>();
  readonly #persistence: QueuePersistence;
  readonly #random: () => number;
  readonly #bounds: BackoffBounds;
  #seq = 0;
  /**
   * Dispatch indexes, so a dispatch round costs O(log n) per entry it looks at instead of a walk of the
   * whole queue. Every entry that may become dispatchable (enqueued, failed, released, or still queued
   * after its transfer) goes into `#timers` by due time; a round moves the due ones into `#due`, ordered
   * by `seq`. Both are lazy: a node whose entry was replaced, removed, is in flight or has another due time
   * is dropped when it reaches the top (whatever changed it pushed a fresh node).
   */
  readonly #timers = new MinHeap<TimerNode>((a, b) => a.atMs < b.atMs || (a.atMs === b.atMs && a.entry.seq < b.entry.seq));
  readonly #due = new MinHeap<QueueEntry>((a, b) => a.seq < b.seq);

  constructor(initial: Iterable<QueueEntry>, persistence: QueuePersistence, options: OpQueueOptions = {}) {
    this.#persistence = persistence;
    this.#random = options.random ?? Math.random;
    this.#bounds = options.backoff ?? { minMs: BACKOFF_MIN_MS, maxMs: BACKOFF_MAX_MS };
    for (const entry of initial) {
      this.#entries.set(entry.path, { ...entry });
      if (entry.kind === 'move') this.#moves.add(entry.path);
      this.#seq = Math.max(this.#seq, entry.seq);
    }
    for (const entry of this.#entries.values()) this.#arm(entry);
  }

  /** Indexes `entry` for dispatch at its due time. */
  #arm(entry: QueueEntry): void {
    this.#timers.push({ atMs: entry.nextAtMs, entry });
  }

  /** True when `entry` is the queued version of its path and not in flight. */
  #current(entry: QueueEntry): boolean {
    return this.#entries.get(entry.path) === entry && !this.#inFlight.has(entry.path);
  }

  /** Moves every entry due by `nowMs` from the timer heap to the FIFO heap, dropping stale nodes. */
  #promote(nowMs: number): void {
    for (let top = this.#timers.peek(); top !== undefined && top.atMs <= nowMs; top = this.#timers.peek()) {
      this.#timers.pop();
      if (this.#current(top.entry) && top.entry.nextAtMs === top.atMs) this.#due.push(top.entry);
    }
  }

  /**
   * Opens a dispatch round at `nowMs`: the same entries as `ready(nowMs)`, in the same order, but handed
   * out one at a time, so a round that starts a few jobs costs a few heap operations. Close it when done.
   */
  openRound(nowMs: number): DueRound {
    this.#promote(nowMs);
    const handed: QueueEntry[] = [];
    const seen = new Set<string>();
    return {
      next: () => {
        for (;;) {
          const entry = this.#due.pop();
          if (entry === undefined) return undefined;
          if (!this.#current(entry) || seen.has(entry.path)) continue;
          if (entry.nextAtMs > nowMs) {
            this.#arm(entry); // failed again since it was promoted: wait for the new time
            continue;
          }
          seen.add(entry.path);
          handed.push(entry);
          return entry;
        }
      },
      close: () => {
        for (const entry of handed) if (this.#current(entry)) this.#due.push(entry);
      },
    };
  }

  get size(): number {
    return this.#entries.size;
  }

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  get(path: string): QueueEntry | undefined {
    return this.#entries.get(path);
  }

  isInFlight(path: string): boolean {
    return this.#inFlight.has(path);
  }

  entries(): IterableIterator<QueueEntry> {
    return this.#entries.values();
  }

  /**
   * Records that `path` must be synced. An existing entry is reused (its place in line kept, its backoff
   * reset); a `move` is kept when a plain `sync` arrives, since the dispatcher checks the move still holds.
   * An entry that already says the same and waits, due, with no failure is left as it is: nothing to write
   * (a first sync's merge queues again every file its scan just queued: 100,000 entries, rows and heap nodes).
   */
  enqueue(path: string, nowMs: number, kind: QueueKind = 'sync', from?: string): QueueEntry {
    const existing = this.#entries.get(path);
    if (existing !== undefined && this.#alreadySays(existing, nowMs, kind, from)) return existing;
    const keepMove = existing?.kind === 'move' && kind === 'sync';
    const entry: QueueEntry = {
      path,
      kind: keepMove ? 'move' : kind,
      generation: (existing?.generation ?? 0) + 1,
      attempts: 0,
      nextAtMs: nowMs,
      seq: existing?.seq ?? ++this.#seq,
    };
    const source = keepMove ? existing?.from : from;
    if (entry.kind === 'move' && source !== undefined) entry.from = source;
    this.#entries.set(path, entry);
    if (entry.kind === 'move') this.#moves.add(path);
    else this.#moves.delete(path);
    this.#persistence.save(entry);
    this.#arm(entry);
    return entry;
  }

  /**
   * True when enqueueing (`kind`, `from`) at `nowMs` would change nothing about `entry` but its generation:
   * it is not in flight (the generation tells a completion that the path changed meanwhile), is due, has no
   * failure to reset, and the kind and source would stay (a `sync` keeps a queued move).
   */
  #alreadySays(entry: QueueEntry, nowMs: number, kind: QueueKind, from: string | undefined): boolean {
    if (this.#inFlight.has(entry.path) || entry.attempts !== 0 || entry.lastError !== undefined || entry.nextAtMs > nowMs) return false;
    return kind === 'sync' || (entry.kind === 'move' && entry.from === from);
  }

  /**
   * Entries due at `nowMs` and not in flight, oldest first: a walk of the whole queue, for tests and
   * diagnostics (the dispatcher uses openRound). The map keeps first-insertion order, which is `seq` order
   * (loaded sorted, re-enqueues keep their place), so no sort is needed.
   */
  ready(nowMs: number): QueueEntry[] {
    const due: QueueEntry[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.nextAtMs <= nowMs && !this.#inFlight.has(entry.path)) due.push(entry);
    }
    return due;
  }

  /** Marks `path` in flight and returns the generation the dispatcher saw. */
  begin(path: string): number {
    const entry = this.#entries.get(path);
    if (entry === undefined) throw new Error(`begin: ${path} is not queued`);
    if (this.#inFlight.has(path)) throw new Error(`begin: ${path} is already in flight`);
    this.#inFlight.add(path);
    return entry.generation;
  }

  /** The transfer of `generation` succeeded: drop the entry unless it was enqueued again meanwhile. */
  complete(path: string, generation: number): void {
    this.#inFlight.delete(path);
    const entry = this.#entries.get(path);
    if (entry === undefined) return;
    if (entry.generation === generation) {
      this.#entries.delete(path);
      this.#moves.delete(path);
      this.#persistence.remove(path);
    } else this.#arm(entry);
  }

  /** The transfer failed for the entry's own reason: retry after a backoff that grows with each failure. */
  fail(path: string, generation: number, nowMs: number, error: string): QueueEntry | undefined {
    this.#inFlight.delete(path);
    const entry = this.#entries.get(path);
    if (entry === undefined) return undefined;
    if (entry.generation === generation) {
      entry.attempts += 1;
      entry.nextAtMs = nowMs + backoffDelayMs(entry.attempts, this.#random, this.#bounds);
      entry.lastError = error;
      this.#persistence.save(entry);
    }
    this.#arm(entry);
    return entry;
  }

  /**
   * Makes every waiting entry due now with no failures counted (a new `--once` run retries what an earlier
   * run gave up on, rather than reporting its old error). Entries in flight are left alone.
   */
  retryAllNow(nowMs: number): void {
    for (const entry of this.#entries.values()) {
      if (this.#inFlight.has(entry.path) || (entry.attempts === 0 && entry.nextAtMs <= nowMs)) continue;
      entry.attempts = 0;
      entry.nextAtMs = nowMs;
      delete entry.lastError;
      this.#persistence.save(entry);
      this.#arm(entry);
    }
  }

  /** The transfer did not happen for reasons outside the entry (server down, shutdown): keep it as it is. */
  release(path: string): void {
    this.#inFlight.delete(path);
    const entry = this.#entries.get(path);
    if (entry !== undefined) this.#arm(entry);
  }

  /** Turns a `move` entry into a plain `sync` (its source no longer holds). */
  demoteMove(path: string): void {
    const entry = this.#entries.get(path);
    if (entry === undefined || entry.kind !== 'move') return;
    entry.kind = 'sync';
    delete entry.from;
    this.#moves.delete(path);
    this.#persistence.save(entry);
  }

  /**
   * Earliest `nextAtMs` after `afterMs` among entries not in flight, or undefined when none waits. Entries
   * already due but held back (blocked) are not counted: whatever unblocks them triggers a dispatch itself.
   */
  nextWakeMs(afterMs = -Infinity): number | undefined {
    this.#promote(afterMs);
    for (let top = this.#timers.peek(); top !== undefined; top = this.#timers.peek()) {
      if (this.#current(top.entry) && top.entry.nextAtMs === top.atMs) return top.atMs;
      this.#timers.pop();
    }
    return undefined;
  }

  /**
   * True while a queued or in-flight move takes its content from `path` (or from below it when
   * `includeBelow`), not counting the entry at `exceptPath` nor any entry below it.
   */
  hasMoveFrom(path: string, includeBelow: boolean, exceptPath?: string): boolean {
    const mine = exceptPath === undefined ? undefined : this.#entries.get(exceptPath)?.seq;
    for (const movePath of this.#moves) {
      // A folder move (exceptPath) does not wait for moves into its own destination: those wait for it
      // (hasMoveAbove), and waiting on each other would stall both forever.
      if (exceptPath !== undefined && (movePath === exceptPath || movePath.startsWith(`${exceptPath}/`))) continue;
      const entry = this.#entries.get(movePath);
      const from = entry?.from;
      if (from === undefined) continue;
      // Two moves of the very same source (a folder moved away, a new one of the same name made and moved
      // too): the older goes first, the newer waits for it (then its source is gone and it becomes a create).
      // Each waiting for the other stalled both forever (folder-name-reused-deadlock).
      if (mine !== undefined && from === path && entry!.seq > mine) continue;
      if (from === path || (includeBelow && (path === '' || from.startsWith(`${path}/`)))) return true;
    }
    return false;
  }

  /** True while a queued move targets a path below folder `path` (the server makes the folder for it). */
  hasMoveInto(path: string): boolean {
    for (const movePath of this.#moves) if (movePath.startsWith(`${path}/`)) return true;
    return false;
  }

  /** True while a queued move targets a folder above `path` (its contents arrive with that move). */
  hasMoveAbove(path: string): boolean {
    for (const movePath of this.#moves) if (path.startsWith(`${movePath}/`)) return true;
    return false;
  }
}
