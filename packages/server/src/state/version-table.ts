/**
 * The versions table: one row per past version of a file (replaced, deleted, or overwritten by a move),
 * with the content hash its version object is stored under, who wrote it, the revision that wrote it,
 * when it became current (`sinceMs`) and when it stopped being current (`timeMs`); `deleted` marks a
 * version that ended in a delete (the trash). Also the `device` column of the index: the token that
 * wrote the current version. Rows carry the file id (entries.file_id) of the file they were a version of,
 * so a moved file keeps its history. SQL only; callers wrap changes in the mirror's transaction.
 */
import type { ManifestEntry, VersionInfo } from '@deltabox/protocol';
import { toManifestEntry } from './file-index.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

interface VersionRow {
  id: number;
  path: string;
  hash: string;
  size: number;
  mtime_ms: number;
  executable: number;
  device: string | null;
  revision: number;
  since_ms: number;
  time_ms: number;
  deleted: number;
}

/** A past version, as stored (also what retention works on). */
export type StoredVersion = VersionInfo;

function toInfo(r: VersionRow): StoredVersion {
  const v: StoredVersion = {
    id: r.id, path: r.path, hash: r.hash, size: r.size, mtimeMs: r.mtime_ms, executable: r.executable === 1,
    revision: r.revision, sinceMs: r.since_ms, timeMs: r.time_ms, deleted: r.deleted === 1,
  };
  if (r.device !== null) v.device = r.device;
  return v;
}

/** Upper bound for "every path under `dir/`" (see file-index.ts). */
function under(dir: string): [string, string] {
  return [`${dir}/`, `${dir}0`];
}

/**
 * The versions in the history of `@path` (ofPath). The lineage is the file id of the entry at the path, else
 * that of the newest version there when it ended in a delete; rows of older servers may have no id.
 */
const HISTORY_OF = `SELECT * FROM versions WHERE path = @path OR file_id = coalesce(
    (SELECT file_id FROM entries WHERE path = @path AND type = 'file'),
    (SELECT file_id FROM (SELECT file_id, deleted FROM versions WHERE path = @path ORDER BY time_ms DESC, id DESC LIMIT 1) WHERE deleted = 1))`;

export class VersionTable {
  readonly #db: Db;
  readonly #insert: Statement;
  readonly #setDevice: Statement;
  readonly #sinceOf: Statement;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare(
      `INSERT INTO versions (path, hash, size, mtime_ms, executable, device, revision, since_ms, time_ms, deleted, file_id)
       VALUES (@path, @hash, @size, @mtimeMs, @executable, (SELECT device FROM entries WHERE path = @path), @revision, @sinceMs,
         @timeMs, @deleted, (SELECT file_id FROM entries WHERE path = @path))`,
    );
    this.#setDevice = db.prepare('UPDATE entries SET device = ? WHERE path = ?');
    this.#sinceOf = db.prepare('SELECT time_ms FROM changes WHERE revision = ?');
  }

  /**
   * Records the version now indexed at `path` as past (call before the index row changes).
   * `hash`/`size` are those its object is stored under (they differ from the index after an out-of-band edit).
   */
  add(old: { path: string; revision: number; mtimeMs: number; executable?: boolean }, kept: { hash: string; size: number }, timeMs: number, deleted: boolean): void {
    this.#insert.run({
      path: old.path, hash: kept.hash, size: kept.size, mtimeMs: old.mtimeMs, executable: old.executable ? 1 : 0, revision: old.revision,
      sinceMs: this.sinceOf(old.revision), timeMs, deleted: deleted ? 1 : 0,
    });
  }

  /** When the change with `revision` happened (0 when the journal no longer knows). */
  sinceOf(revision: number): number {
    return (this.#sinceOf.get(revision) as { time_ms: number } | undefined)?.time_ms ?? 0;
  }

  setDevice(path: string, device: string | undefined): void {
    this.#setDevice.run(device ?? null, path);
  }

  deviceOf(path: string): string | undefined {
    const row = this.#db.prepare('SELECT device FROM entries WHERE path = ?').get(path) as { device: string | null } | undefined;
    return row?.device ?? undefined;
  }

  /** Index entries of the files under folder `dir` (what a recursive removal deletes). */
  filesUnder(dir: string): ManifestEntry[] {
    const [lo, hi] = under(dir);
    const rows = this.#db.prepare("SELECT * FROM entries WHERE type = 'file' AND path >= ? AND path < ?").all(lo, hi);
    return (rows as Parameters<typeof toManifestEntry>[0][]).map(toManifestEntry);
  }

  get(id: number): StoredVersion | undefined {
    const row = this.#db.prepare('SELECT * FROM versions WHERE id = ?').get(id) as VersionRow | undefined;
    return row && toInfo(row);
  }

  /**
   * The history of `path`, newest first: every past version at `path`, and every past version, wherever it
   * was, of the file there now (the same file id: it came by moves), or else of the file whose delete ended
   * the path's history (a file moved here and then deleted).
   */
  ofPath(path: string): StoredVersion[] {
    return (this.#db.prepare(`${HISTORY_OF} ORDER BY time_ms DESC, id DESC`).all({ path }) as VersionRow[]).map(toInfo);
  }

  /**
   * The version whose delete ended `path` (the newest version there, when it ended in a delete), with the id of
   * the file it was a version of (null for rows of older servers); undefined when the path's last version was
   * not deleted or it has none.
   */
  deletedAt(path: string): { version: StoredVersion; fileId: number | null } | undefined {
    const row = this.#db.prepare('SELECT * FROM versions WHERE path = ? ORDER BY time_ms DESC, id DESC LIMIT 1').get(path) as (VersionRow & { file_id: number | null }) | undefined;
    return row?.deleted === 1 ? { version: toInfo(row), fileId: row.file_id } : undefined;
  }

  /**
   * The file ids of the paths under folder `dir` deleted at `timeMs` (by one folder delete, which records all its
   * files at one time), with their paths; rows of older servers without a file id are left out.
   */
  deletedFilesUnder(dir: string, timeMs: number): Array<{ path: string; fileId: number }> {
    const [lo, hi] = under(dir);
    return this.#db
      .prepare('SELECT path, file_id AS fileId FROM versions WHERE deleted = 1 AND file_id IS NOT NULL AND time_ms = ? AND path >= ? AND path < ?')
      .all(timeMs, lo, hi) as Array<{ path: string; fileId: number }>;
  }

  /** Whether version `id` is in the history of `path` (see ofPath). */
  inHistoryOf(path: string, id: number): boolean {
    return this.#db.prepare(`SELECT 1 FROM (${HISTORY_OF}) WHERE id = @id`).get({ path, id }) !== undefined;
  }

  /** The past version in the history of `path` (see ofPath) that was current at `atMs`, if any. */
  asOf(path: string, atMs: number): StoredVersion | undefined {
    const row = this.#db
      .prepare(`SELECT * FROM (${HISTORY_OF}) WHERE since_ms <= @atMs AND time_ms > @atMs ORDER BY time_ms ASC, id ASC LIMIT 1`)
      .get({ path, atMs }) as VersionRow | undefined;
    return row && toInfo(row);
  }

  /** Past versions under folder `dir` ('' for the root) that were current at `atMs`, one per path. */
  asOfUnder(dir: string, atMs: number): StoredVersion[] {
    const [lo, hi] = dir === '' ? ['', '\u{10ffff}'] : under(dir);
    const rows = this.#db
      .prepare(
        `SELECT * FROM versions WHERE path >= ? AND path < ? AND since_ms <= ? AND time_ms > ?
         ORDER BY path, time_ms ASC, id ASC`,
      )
      .all(lo, hi, atMs, atMs) as VersionRow[];
    const seen = new Set<string>();
    return rows.filter((r) => !seen.has(r.path) && seen.add(r.path)).map(toInfo);
  }

  /** The trash: for each path that is gone now and whose last version ended in a delete, that version. */
  trash(): StoredVersion[] {
    const rows = this.#db
      .prepare(
        `SELECT * FROM versions v WHERE deleted = 1
           AND id = (SELECT id FROM versions w WHERE w.path = v.path ORDER BY time_ms DESC, id DESC LIMIT 1)
           AND NOT EXISTS (SELECT 1 FROM entries e WHERE e.path = v.path)
         ORDER BY time_ms DESC`,
      )
      .all() as VersionRow[];
    return rows.map(toInfo);
  }

  all(): StoredVersion[] {
    return (this.#db.prepare('SELECT * FROM versions').all() as VersionRow[]).map(toInfo);
  }

  /** Deletes rows; returns the hashes no row references any more. */
  remove(ids: number[]): string[] {
    const hashes = new Set<string>();
    const get = this.#db.prepare('SELECT hash FROM versions WHERE id = ?');
    const del = this.#db.prepare('DELETE FROM versions WHERE id = ?');
    this.#db.transaction(() => {
      for (const id of ids) {
        const row = get.get(id) as { hash: string } | undefined;
        if (!row) continue;
        del.run(id);
        hashes.add(row.hash);
      }
    })();
    return [...hashes].filter((h) => !this.isReferenced(h));
  }

  isReferenced(hash: string): boolean {
    return this.#db.prepare('SELECT 1 FROM versions WHERE hash = ? LIMIT 1').get(hash) !== undefined;
  }
}
