/**
 * The change journal: every change gets the next revision (SQLite AUTOINCREMENT, so never reused) and
 * waiters of a long-poll wake when one is appended. Appends run inside the caller's transaction; the
 * caller calls `notify()` after it commits. Retention prunes the oldest records (always a prefix) and
 * raises the floor: `since` values below it can no longer be answered. Knows nothing about files on disk.
 */
import type { ChangeOp, ChangeRecord } from '@deltabox/protocol';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';
import { ancestorsOf } from '../path-lock.js';

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

/**
 * The journal's own schema beside the `changes` table of database.ts: the floor (records up to it were pruned
 * by retention) and two partial indexes for "was a folder on the way to this path moved or removed after
 * revision N", so that lookup costs a few pages per ancestor whatever the journal's length. Idempotent and
 * outside the numbered migrations (as upload-store.ts's table), so it does not contend with other schema work.
 */
const JOURNAL_SCHEMA = `
  CREATE TABLE IF NOT EXISTS journal_floor (revision INTEGER NOT NULL);
  INSERT INTO journal_floor (revision) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM journal_floor);
  CREATE INDEX IF NOT EXISTS changes_moved_from ON changes(from_path, revision) WHERE op = 'move';
  CREATE INDEX IF NOT EXISTS changes_removed ON changes(path, revision) WHERE op IN ('rmdir', 'delete');`;

/** The PARENT_CHANGED lookups (one per ancestor each), served by the partial indexes of JOURNAL_SCHEMA. */
export const ANCESTOR_LOOKUPS = {
  movedFrom: "SELECT * FROM changes WHERE op = 'move' AND from_path = ? AND revision > ? ORDER BY revision LIMIT 1",
  removed: "SELECT * FROM changes WHERE op IN ('rmdir', 'delete') AND path = ? AND revision > ? ORDER BY revision LIMIT 1",
} as const;

export class Journal {
  readonly #db: Db;
  readonly #waiters = new Set<() => void>();
  readonly #append: Statement;
  readonly #latest: Statement;
  readonly #floor: Statement;
  readonly #movedFrom: Statement;
  readonly #removed: Statement;
  #closed = false;

  constructor(db: Db) {
    this.#db = db;
    db.exec(JOURNAL_SCHEMA);
    this.#append = db.prepare('INSERT INTO changes (op, path, from_path, hash, size, time_ms) VALUES (?, ?, ?, ?, ?, ?)');
    this.#latest = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'changes'");
    this.#floor = db.prepare('SELECT revision FROM journal_floor');
    this.#movedFrom = db.prepare(ANCESTOR_LOOKUPS.movedFrom);
    this.#removed = db.prepare(ANCESTOR_LOOKUPS.removed);
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

  /** Oldest `since` still answerable: every record up to it was pruned; 0 when nothing was. */
  floor(): number {
    return (this.#floor.get() as { revision: number }).revision;
  }

  /**
   * The first record after `since` that moved a folder on the way to `path` away, or removed one (`rmdir`, or
   * a `delete` of a file that stood there): a write computed before it targets a place that is not there any
   * more. Two index lookups per ancestor. Records pruned by retention are not seen.
   */
  ancestorChangedSince(path: string, since: number): ChangeRecord | undefined {
    let first: ChangeRow | undefined;
    for (const dir of ancestorsOf(path)) {
      for (const stmt of [this.#movedFrom, this.#removed]) {
        const row = stmt.get(dir, since) as ChangeRow | undefined;
        if (row && (!first || row.revision < first.revision)) first = row;
      }
    }
    return first && toRecord(first);
  }

  /**
   * Deletes the oldest records while they are older than `cutoffMs`, at most `maxRows`, and raises the floor
   * to the last one deleted (in one transaction). Only a prefix goes, so every record after the floor stays
   * (a clock that stepped back keeps a newer record, and all after it, until it too is old). Returns how many.
   */
  prune(cutoffMs: number, maxRows: number): number {
    return this.#db.transaction(() => {
      const rows = this.#db
        .prepare('SELECT revision, time_ms FROM changes ORDER BY revision LIMIT ?')
        .all(maxRows) as Array<{ revision: number; time_ms: number }>;
      let last = 0;
      let count = 0;
      for (const r of rows) {
        if (r.time_ms >= cutoffMs) break;
        last = r.revision;
        count++;
      }
      if (count === 0) return 0;
      this.#db.prepare('DELETE FROM changes WHERE revision <= ?').run(last);
      this.#db.prepare('UPDATE journal_floor SET revision = ?').run(last);
      return count;
    })();
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
