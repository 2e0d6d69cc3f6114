/**
 * The file index: one row per file and folder of the mirror with size, mtime, content hash and the
 * revision that last changed it; and the signature cache keyed by content hash. SQL only; callers wrap
 * related changes (index + journal) in one transaction.
 */
import type { EntryType, ManifestEntry } from '@deltabox/protocol';
import type { Statement } from 'better-sqlite3';
import { openReadOnly, type Db } from './database.js';

interface EntryRow {
  path: string;
  type: EntryType;
  size: number;
  mtime_ms: number;
  hash: string | null;
  executable: number;
  revision: number;
  stat_token: string | null;
}

/** An index row as the server sees it: the manifest entry and the stat identity it was indexed at. */
export interface IndexedEntry {
  entry: ManifestEntry;
  /** StorageEntry.statToken when the row was written; undefined for folders and rows of older servers. */
  statToken?: string;
}

/** What the index stores for one path: a manifest entry with its stat identity. */
/** `fileId`: the id of a file brought back (a revive keeps the deleted file's id); absent, a new row's id is its revision. */
export type IndexRow = ManifestEntry & { statToken?: string; fileId?: number };

function toIndexed(r: EntryRow): IndexedEntry {
  return r.stat_token === null ? { entry: toManifestEntry(r) } : { entry: toManifestEntry(r), statToken: r.stat_token };
}

export function toManifestEntry(r: EntryRow): ManifestEntry {
  const entry: ManifestEntry = { path: r.path, type: r.type, size: r.size, mtimeMs: r.mtime_ms, revision: r.revision };
  if (r.hash !== null) entry.hash = r.hash;
  if (r.type === 'file') entry.executable = r.executable === 1;
  return entry;
}

/** Upper bound for "every path under `dir/`": '/' + 1 is '0', so [dir/, dir0) is exactly the subtree. */
function subtreeBounds(dir: string): [string, string] {
  return [`${dir}/`, `${dir}0`];
}

export class FileIndex {
  readonly #db: Db;
  /** Prepared once: every request runs a few of these. */
  readonly #get: Statement;
  readonly #upsert: Statement;
  readonly #setToken: Statement;

  constructor(db: Db) {
    this.#db = db;
    this.#get = db.prepare('SELECT * FROM entries WHERE path = ?');
    this.#upsert = db.prepare(
      // A new row's file id is the revision that made it; an existing row keeps its id (replaces, moves).
      `INSERT INTO entries (path, type, size, mtime_ms, hash, executable, revision, stat_token, file_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(path) DO UPDATE SET type = excluded.type, size = excluded.size, mtime_ms = excluded.mtime_ms,
         hash = excluded.hash, executable = excluded.executable, revision = excluded.revision,
         stat_token = excluded.stat_token`,
    );
    this.#setToken = db.prepare('UPDATE entries SET stat_token = ? WHERE path = ?');
  }

  get(path: string): ManifestEntry | undefined {
    const row = this.#get.get(path) as EntryRow | undefined;
    return row && toManifestEntry(row);
  }

  /** The entry with the stat identity it was indexed at. */
  getIndexed(path: string): IndexedEntry | undefined {
    const row = this.#get.get(path) as EntryRow | undefined;
    return row && toIndexed(row);
  }

  upsert(entry: IndexRow): void {
    this.#upsert.run(
      entry.path, entry.type, entry.size, entry.mtimeMs, entry.hash ?? null, entry.executable ? 1 : 0, entry.revision, entry.statToken ?? null, entry.fileId ?? entry.revision,
    );
  }

  /** The current file with id `fileId` (a file keeps its id through replaces and moves), if any. */
  fileWithId(fileId: number): ManifestEntry | undefined {
    const row = this.#db.prepare("SELECT * FROM entries WHERE file_id = ? AND type = 'file'").get(fileId) as EntryRow | undefined;
    return row && toManifestEntry(row);
  }

  /** Records a new stat identity for an unchanged file (same content and metadata): no revision, no journal. */
  setStatToken(path: string, statToken: string | undefined): void {
    this.#setToken.run(statToken ?? null, path);
  }

  /** Removes the entry and, for a folder, everything under it. */
  removeTree(path: string): void {
    const [lo, hi] = subtreeBounds(path);
    this.#db.prepare('DELETE FROM entries WHERE path = ? OR (path >= ? AND path < ?)').run(path, lo, hi);
  }

  /** Renames `from` (and its subtree) to `to`, stamping the moved rows with `revision`. */
  moveTree(from: string, to: string, revision: number): void {
    const [lo, hi] = subtreeBounds(from);
    this.#db
      .prepare(
        `UPDATE entries SET path = ? || substr(path, ?), revision = ?
         WHERE path = ? OR (path >= ? AND path < ?)`,
      )
      .run(to, from.length + 1, revision, from, lo, hi);
  }

  /** Every indexed path with its stat identity (for the verification pass). */
  allPaths(): Map<string, IndexedEntry> {
    const rows = this.#db.prepare('SELECT * FROM entries').all() as EntryRow[];
    return new Map(rows.map((r) => [r.path, toIndexed(r)]));
  }

  cachedSignature(hash: string, blockLength: number): Uint8Array | undefined {
    const row = this.#db
      .prepare('SELECT bytes FROM signatures WHERE hash = ? AND block_length = ?')
      .get(hash, blockLength) as { bytes: Buffer } | undefined;
    return row?.bytes;
  }

  cacheSignature(hash: string, blockLength: number, bytes: Uint8Array): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO signatures (hash, block_length, bytes) VALUES (?, ?, ?)')
      .run(hash, blockLength, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** Drops cached signatures of contents no file has any more. */
  pruneSignatures(): void {
    this.#db.prepare('DELETE FROM signatures WHERE hash NOT IN (SELECT hash FROM entries WHERE hash IS NOT NULL)').run();
  }
}

/**
 * Streams the manifest as NDJSON from a consistent snapshot on its own read-only connection (so a slow
 * reader never blocks writers or the main connection). Yields chunks of lines; closes the connection
 * when done or when the consumer stops early.
 */
export function openManifestSnapshot(sdir: string): {
  revision: number;
  lines: AsyncGenerator<string>;
  close: () => Promise<void>;
} {
  const db = openReadOnly(sdir);
  db.exec('BEGIN');
  const row = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").get() as { seq: number } | undefined;
  async function* lines(): AsyncGenerator<string> {
    try {
      let chunk = '';
      let count = 0;
      for (const r of db.prepare('SELECT * FROM entries ORDER BY path').iterate() as IterableIterator<EntryRow>) {
        chunk += JSON.stringify(toManifestEntry(r)) + '\n';
        // ~256 lines per chunk: few syscalls, little memory, and backpressure between chunks.
        if (++count % 256 === 0) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    } finally {
      release();
    }
  }
  function release(): void {
    if (!db.open) return;
    if (db.inTransaction) db.exec('COMMIT');
    db.close();
  }
  const gen = lines();
  // Idempotent; also covers a generator that was never started (return() then skips its finally).
  const close = async (): Promise<void> => {
    await gen.return(undefined);
    release();
  };
  return { revision: row?.seq ?? 0, lines: gen, close };
}
