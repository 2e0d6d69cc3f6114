/**
 * The client state in `CDIR/.deltabox/state.sqlite` (better-sqlite3, WAL): the local entries of the last
 * scan, the remote entries the server acknowledged, the synced base of two-way sync, the durable queue,
 * the cache index and small settings.
 * Every SQL statement of the scanner lives here; nothing else knows the schema.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { LocalEntry } from '../detect/change-detector.js';
import { STATE_DB_FILE } from '../constants.js';
import type { QueueEntry, QueuePersistence } from '../queue/op-queue.js';
import type { EntryType } from '../detect/tree-walk.js';

/** What the server holds for a path, as it last told us (write responses or the manifest). */
export interface RemoteEntry {
  path: string;
  type: EntryType;
  size: number;
  mtimeMs: number;
  hash?: string;
  executable: boolean;
}

export type CacheKind = 'copy' | 'signature';

export interface CacheRow {
  hash: string;
  kind: CacheKind;
  bytes: number;
  lastUsedMs: number;
}

/** A resumable upload session the server opened for one path, kept so it survives a scanner restart. */
export interface UploadSessionRow {
  path: string;
  /** The server's session id. */
  id: string;
  /** SHA-256 and size of the version being sent: another version abandons the session. */
  hash: string;
  size: number;
  /** The precondition it was opened with: the base hash, `*` (create only) or `` (none). */
  base: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS local (path TEXT PRIMARY KEY, disk_path TEXT NOT NULL, type TEXT NOT NULL,
  size INTEGER NOT NULL, mtime_ms REAL NOT NULL, ino INTEGER NOT NULL, mode INTEGER NOT NULL, hash TEXT,
  racy INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS remote (path TEXT PRIMARY KEY, type TEXT NOT NULL, size INTEGER NOT NULL,
  mtime_ms INTEGER NOT NULL, hash TEXT, executable INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS base (path TEXT PRIMARY KEY, type TEXT NOT NULL, size INTEGER NOT NULL,
  mtime_ms INTEGER NOT NULL, hash TEXT, executable INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS queue (path TEXT PRIMARY KEY, kind TEXT NOT NULL, from_path TEXT,
  generation INTEGER NOT NULL, attempts INTEGER NOT NULL, next_at_ms INTEGER NOT NULL, seq INTEGER NOT NULL,
  last_error TEXT);
CREATE TABLE IF NOT EXISTS cache (hash TEXT NOT NULL, kind TEXT NOT NULL, bytes INTEGER NOT NULL,
  last_used_ms INTEGER NOT NULL, PRIMARY KEY (hash, kind));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS small_sig (hash TEXT PRIMARY KEY, sig BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS upload_session (path TEXT PRIMARY KEY, id TEXT NOT NULL, hash TEXT NOT NULL,
  size INTEGER NOT NULL, base TEXT NOT NULL);
`;

/**
 * A `local` row as its load query returns it: path, disk_path (null when it is the path), is_dir (0/1), size,
 * mtime_ms, ino, mode, hash, racy.
 */
type LocalRow = [string, string | null, number, number, number, number, number, string | null, number];

/** A `remote` or `base` row as its load query returns it: path, is_dir (0/1), size, mtime_ms, hash, executable. */
type RemoteRow = [string, number, number, number, string | null, number];

interface QueueRow {
  path: string;
  kind: 'sync' | 'move';
  from_path: string | null;
  generation: number;
  attempts: number;
  next_at_ms: number;
  seq: number;
  last_error: string | null;
}

export class StateStore implements QueuePersistence {
  readonly #db: Database.Database;
  readonly #stmts;

  /** Opens (creating when needed) the state database in `stateDir`. */
  constructor(stateDir: string) {
    // Owner-only: the database holds the device token `deltabox run` minted, and every synced path and
    // hash. chmod as well, for a folder made before this rule or under an unusual umask.
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    chmodSync(stateDir, 0o700);
    this.#db = new Database(join(stateDir, STATE_DB_FILE));
    this.#db.pragma('journal_mode = WAL');
    // NORMAL under WAL: a power cut may lose the last commits but never corrupts; replays are idempotent.
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(SCHEMA);
    const db = this.#db;
    // The row writers a first sync runs 100,000 times each take positional parameters: a named-parameter object
    // per row was one more object per file (a spread copy of the entry) for the garbage collector.
    this.#stmts = {
      upsertLocal: db.prepare(
        'INSERT OR REPLACE INTO local (path, disk_path, type, size, mtime_ms, ino, mode, hash, racy) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      deleteLocal: db.prepare('DELETE FROM local WHERE path = ?'),
      loadLocal: db.prepare(
        "SELECT path, CASE WHEN disk_path = path THEN NULL ELSE disk_path END, type = 'dir', size, mtime_ms, ino, mode, hash, racy FROM local",
      ),
      loadRemote: db.prepare("SELECT path, type = 'dir', size, mtime_ms, hash, executable FROM remote"),
      loadBase: db.prepare("SELECT path, type = 'dir', size, mtime_ms, hash, executable FROM base"),
      upsertRemote: db.prepare(
        'INSERT OR REPLACE INTO remote (path, type, size, mtime_ms, hash, executable) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      deleteRemote: db.prepare('DELETE FROM remote WHERE path = ?'),
      deleteRemoteUnder: db.prepare("DELETE FROM remote WHERE path = ? OR substr(path, 1, length(?) + 1) = ? || '/'"),
      clearRemote: db.prepare('DELETE FROM remote'),
      upsertBase: db.prepare(
        'INSERT OR REPLACE INTO base (path, type, size, mtime_ms, hash, executable) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      deleteBase: db.prepare('DELETE FROM base WHERE path = ?'),
      saveQueue: db.prepare(
        'INSERT OR REPLACE INTO queue (path, kind, from_path, generation, attempts, next_at_ms, seq, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      removeQueue: db.prepare('DELETE FROM queue WHERE path = ?'),
      putCache: db.prepare(
        'INSERT OR REPLACE INTO cache (hash, kind, bytes, last_used_ms) VALUES (@hash, @kind, @bytes, @lastUsedMs)',
      ),
      deleteCache: db.prepare('DELETE FROM cache WHERE hash = ? AND kind = ?'),
      putSmallSig: db.prepare('INSERT OR REPLACE INTO small_sig (hash, sig) VALUES (?, ?)'),
      getSmallSig: db.prepare('SELECT sig FROM small_sig WHERE hash = ?'),
      getUpload: db.prepare('SELECT path, id, hash, size, base FROM upload_session WHERE path = ?'),
      putUpload: db.prepare('INSERT OR REPLACE INTO upload_session (path, id, hash, size, base) VALUES (@path, @id, @hash, @size, @base)'),
      deleteUpload: db.prepare('DELETE FROM upload_session WHERE path = ?'),
      deleteSmallSig: db.prepare('DELETE FROM small_sig WHERE hash = ?'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
    };
  }

  /** Runs `fn` in one transaction (one fsync for a whole scan's rows). */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  /**
   * Every local row, keyed by path. A no-change rescan of 100,000 files loads 100,000 of them, and most of
   * the cost was the garbage collector copying what the load kept: rows come as arrays one at a time
   * (`.raw().iterate()`, not an object per row per column name, nor all rows at once), the type as a flag
   * (one shared string), and the disk name only where it is not the path itself.
   */
  loadLocal(): Map<string, LocalEntry> {
    const map = new Map<string, LocalEntry>();
    for (const r of this.#stmts.loadLocal.raw().iterate() as IterableIterator<LocalRow>) {
      const entry: LocalEntry = { path: r[0], diskPath: r[1] ?? r[0], type: r[2] === 1 ? 'dir' : 'file', size: r[3], mtimeMs: r[4], ino: r[5], mode: r[6], racy: r[8] === 1 };
      if (r[7] !== null) entry.hash = r[7];
      map.set(r[0], entry);
    }
    return map;
  }

  /** Whether there are `rows` local rows or more (reads no more than that many). */
  hasLocalRows(rows: number): boolean {
    return this.#db.prepare('SELECT count(*) FROM (SELECT 1 FROM local LIMIT ?)').pluck().get(rows) === rows;
  }

  upsertLocal(entry: LocalEntry): void {
    this.#stmts.upsertLocal.run(entry.path, entry.diskPath, entry.type, entry.size, entry.mtimeMs, entry.ino, entry.mode, entry.hash ?? null, entry.racy ? 1 : 0);
  }

  deleteLocal(path: string): void {
    this.#stmts.deleteLocal.run(path);
  }

  loadRemote(): Map<string, RemoteEntry> {
    return this.#loadEntries(this.#stmts.loadRemote);
  }

  /**
   * The synced tree of two-way sync (docs/SYNC.md): what both sides agreed on, per path. A row equal to
   * `sameAs`'s entry for its path is that entry itself (entries are never changed in place; setBase shares
   * them the same way): in a folder in step, base and remote are the same tree, kept once.
   */
  loadBase(sameAs?: ReadonlyMap<string, RemoteEntry>): Map<string, RemoteEntry> {
    return this.#loadEntries(this.#stmts.loadBase, sameAs);
  }

  upsertBase(entry: RemoteEntry): void {
    this.#stmts.upsertBase.run(entry.path, entry.type, entry.size, entry.mtimeMs, entry.hash ?? null, entry.executable ? 1 : 0);
  }

  deleteBase(path: string): void {
    this.#stmts.deleteBase.run(path);
  }

  /** Every row of a `remote` or `base` query, keyed by path (rows as in loadLocal; sameAs as in loadBase). */
  #loadEntries(query: Database.Statement, sameAs?: ReadonlyMap<string, RemoteEntry>): Map<string, RemoteEntry> {
    const map = new Map<string, RemoteEntry>();
    for (const r of query.raw().iterate() as IterableIterator<RemoteRow>) {
      const type: EntryType = r[1] === 1 ? 'dir' : 'file';
      const executable = r[5] === 1;
      const hash = r[4] ?? undefined;
      const same = sameAs?.get(r[0]);
      if (same !== undefined && same.type === type && same.size === r[2] && same.mtimeMs === r[3] && same.hash === hash && same.executable === executable) {
        map.set(same.path, same);
        continue;
      }
      const entry: RemoteEntry = { path: r[0], type, size: r[2], mtimeMs: r[3], executable };
      if (hash !== undefined) entry.hash = hash;
      map.set(r[0], entry);
    }
    return map;
  }

  upsertRemote(entry: RemoteEntry): void {
    this.#stmts.upsertRemote.run(entry.path, entry.type, entry.size, entry.mtimeMs, entry.hash ?? null, entry.executable ? 1 : 0);
  }

  deleteRemote(path: string): void {
    this.#stmts.deleteRemote.run(path);
  }

  /** Deletes `dir` and everything recorded below it. */
  deleteRemoteTree(dir: string): void {
    this.#stmts.deleteRemoteUnder.run(dir, dir, dir);
  }

  /** Replaces the whole remote table (a fresh manifest). */
  replaceRemote(entries: Iterable<RemoteEntry>): void {
    this.transaction(() => {
      this.#stmts.clearRemote.run();
      for (const entry of entries) this.upsertRemote(entry);
    });
  }

  loadQueue(): QueueEntry[] {
    const rows = this.#db.prepare('SELECT * FROM queue ORDER BY seq').all() as QueueRow[];
    return rows.map((r) => ({
      path: r.path,
      kind: r.kind,
      ...(r.from_path === null ? {} : { from: r.from_path }),
      generation: r.generation,
      attempts: r.attempts,
      nextAtMs: r.next_at_ms,
      seq: r.seq,
      ...(r.last_error === null ? {} : { lastError: r.last_error }),
    }));
  }

  save(entry: QueueEntry): void {
    this.#stmts.saveQueue.run(entry.path, entry.kind, entry.from ?? null, entry.generation, entry.attempts, entry.nextAtMs, entry.seq, entry.lastError ?? null);
  }

  remove(path: string): void {
    this.#stmts.removeQueue.run(path);
  }

  loadCache(): CacheRow[] {
    const rows = this.#db.prepare('SELECT * FROM cache').all() as Array<{
      hash: string;
      kind: CacheKind;
      bytes: number;
      last_used_ms: number;
    }>;
    return rows.map((r) => ({ hash: r.hash, kind: r.kind, bytes: r.bytes, lastUsedMs: r.last_used_ms }));
  }

  putCache(row: CacheRow): void {
    this.#stmts.putCache.run(row);
  }

  deleteCache(hash: string, kind: CacheKind): void {
    this.#stmts.deleteCache.run(hash, kind);
  }

  /** The encoded signature kept for a small file's version (see BasisCache.putSmallSignature). */
  /** The server upload session kept for `path` (resumable-upload.ts), if any. */
  getUploadSession(path: string): UploadSessionRow | undefined {
    return this.#stmts.getUpload.get(path) as UploadSessionRow | undefined;
  }

  putUploadSession(row: UploadSessionRow): void {
    this.#stmts.putUpload.run(row);
  }

  deleteUploadSession(path: string): void {
    this.#stmts.deleteUpload.run(path);
  }

  getSmallSignature(hash: string): Uint8Array | undefined {
    const row = this.#stmts.getSmallSig.get(hash) as { sig: Buffer } | undefined;
    return row === undefined ? undefined : new Uint8Array(row.sig);
  }

  putSmallSignature(hash: string, signature: Uint8Array): void {
    this.#stmts.putSmallSig.run(hash, Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength));
  }

  /** Drops the small-file signatures of versions no longer referenced. */
  retainSmallSignatures(referenced: ReadonlySet<string>): void {
    const hashes = this.#db.prepare('SELECT hash FROM small_sig').pluck().all() as string[];
    this.transaction(() => {
      for (const hash of hashes) if (!referenced.has(hash)) this.#stmts.deleteSmallSig.run(hash);
    });
  }

  getMeta(key: string): string | undefined {
    return (this.#stmts.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.#stmts.setMeta.run(key, value);
  }

  close(): void {
    this.#db.close();
  }
}
