/**
 * The change journal: every change gets the next revision (SQLite AUTOINCREMENT, so never reused) and
 * waiters of a long-poll wake when one is appended. Appends run inside the caller's transaction; the
 * caller calls `notify()` after it commits. Knows nothing about files on disk.
 */
import type { ChangeOp, ChangeRecord } from '@deltabox/protocol';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

interface ChangeRow {
  revision: number;
  op: ChangeOp;
  path: string;
  from_path: string | null;
  hash: string | null;
  size: number | null;
  time_ms: number;
}

export type NewChange = Omit<ChangeRecord, 'revision' | 'timeMs'>;

export class Journal {
  readonly #db: Db;
  readonly #waiters = new Set<() => void>();
  readonly #append: Statement;
  readonly #latest: Statement;
  #closed = false;

  constructor(db: Db) {
    this.#db = db;
    this.#append = db.prepare('INSERT INTO changes (op, path, from_path, hash, size, time_ms) VALUES (?, ?, ?, ?, ?, ?)');
    this.#latest = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'changes'");
  }

  /** Appends a change and returns its revision. Call inside the transaction that changes the index. */
  append(change: NewChange, nowMs = Date.now()): number {
    const res = this.#append.run(change.op, change.path, change.from ?? null, change.hash ?? null, change.size ?? null, nowMs);
    return Number(res.lastInsertRowid);
  }

  /** Latest revision; 0 for an empty journal. */
  latest(): number {
    const row = this.#latest.get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  /** Changes with revision > `since`, oldest first, at most `limit`. */
  since(since: number, limit: number): ChangeRecord[] {
    const rows = this.#db
      .prepare('SELECT * FROM changes WHERE revision > ? ORDER BY revision LIMIT ?')
      .all(since, limit) as ChangeRow[];
    return rows.map(toRecord);
  }

  /** Wakes every long-poll; call after a transaction with new appends committed. */
  notify(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Shutdown: wakes every long-poll and makes later ones return at once. */
  close(): void {
    this.#closed = true;
    this.notify();
  }

  /**
   * Resolves when a revision past `since` exists, after `timeoutMs`, or when `signal` aborts.
   * Never rejects.
   */
  waitForChange(since: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || this.latest() > since || timeoutMs <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

function toRecord(r: ChangeRow): ChangeRecord {
  const rec: ChangeRecord = { revision: r.revision, op: r.op, path: r.path, timeMs: r.time_ms };
  if (r.from_path !== null) rec.from = r.from_path;
  if (r.hash !== null) rec.hash = r.hash;
  if (r.size !== null) rec.size = r.size;
  return rec;
}
