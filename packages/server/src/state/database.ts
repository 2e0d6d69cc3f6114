/**
 * Opens the server's SQLite state (`<sdir>/.deltabox/state.db`, WAL) and brings its schema up to date.
 * Owns the schema only; the index, journal, signature cache and tokens each query their own tables.
 */
import { mkdirSync, lstatSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { STATE_DIR } from '@deltabox/protocol';
import { ServerFolderError } from '../server-folder-error.js';

export type Db = Database.Database;

/** Where the state of a served folder lives. */
export function stateLayout(sdir: string): { stateDir: string; tmpDir: string; dbPath: string } {
  const stateDir = join(sdir, STATE_DIR);
  return { stateDir, tmpDir: join(stateDir, 'tmp'), dbPath: join(stateDir, 'state.db') };
}

/** Each migration moves `user_version` from its index to index + 1; never edit one that shipped. */
const migrations: string[] = [
  `CREATE TABLE entries (
     path TEXT PRIMARY KEY, type TEXT NOT NULL, size INTEGER NOT NULL, mtime_ms INTEGER NOT NULL,
     hash TEXT, executable INTEGER NOT NULL DEFAULT 0, revision INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX entries_hash ON entries(hash);
   CREATE TABLE changes (
     revision INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, path TEXT NOT NULL, from_path TEXT,
     hash TEXT, size INTEGER, time_ms INTEGER NOT NULL
   );
   CREATE TABLE signatures (
     hash TEXT NOT NULL, block_length INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (hash, block_length)
   ) WITHOUT ROWID;
   CREATE TABLE tokens (
     id INTEGER PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
     expires_at INTEGER, read_only INTEGER NOT NULL, revoked_at INTEGER, last_used_at INTEGER
   );
   CREATE INDEX tokens_name ON tokens(name);`,
  // 2: the stat identity of each file when it was indexed (storage.ts StorageEntry.statToken), so a file
  // changed behind the server's back is noticed before it is used. NULL for rows of older servers: they
  // are compared by size and mtime until the next check fills it in.
  `ALTER TABLE entries ADD COLUMN stat_token TEXT;`,
  // 3: version history (history/): past versions of files, and who wrote the current one.
  `CREATE TABLE versions (
     id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL,
     mtime_ms INTEGER NOT NULL, executable INTEGER NOT NULL, device TEXT, revision INTEGER NOT NULL,
     since_ms INTEGER NOT NULL, time_ms INTEGER NOT NULL, deleted INTEGER NOT NULL
   );
   CREATE INDEX versions_path ON versions(path, time_ms);
   CREATE INDEX versions_hash ON versions(hash);
   ALTER TABLE entries ADD COLUMN device TEXT;`,
  // 4: file ids, so moves carry history (DESIGN.md §Version history). A file gets an id when it appears at a
  // path (the revision of that change) and keeps it through replaces and moves; each versions row records
  // the id of the file it was a version of. Rows of older servers: entries are numbered -1, -2, ... (never a
  // revision), and each past version takes the id of the file at its path at the upgrade, which is what
  // history by path showed for it until then.
  `ALTER TABLE entries ADD COLUMN file_id INTEGER;
   ALTER TABLE versions ADD COLUMN file_id INTEGER;
   UPDATE entries SET file_id = -numbered.n
     FROM (SELECT path AS p, row_number() OVER (ORDER BY path) AS n FROM entries) AS numbered
     WHERE entries.path = numbered.p;
   UPDATE versions SET file_id = (SELECT file_id FROM entries WHERE entries.path = versions.path AND entries.type = 'file');
   CREATE INDEX versions_file ON versions(file_id);`,
  // 5: a revive (MoveRequest.revive) looks up whether a deleted file is current again somewhere, by its id.
  `CREATE INDEX entries_file ON entries(file_id);`,
];

/**
 * The real path of the served folder `sdir`, created first when `create` is set.
 * @throws ServerFolderError NO_SUCH_FOLDER (missing and not `create`), NOT_A_FOLDER (a file is there or on the way)
 */
export function resolveServedFolder(sdir: string, create: boolean): string {
  let st;
  try {
    st = statSync(sdir, { throwIfNoEntry: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    throw new ServerFolderError('NOT_A_FOLDER', `${sdir} is not a folder: a file is on the way`, { cause: err });
  }
  if (st && !st.isDirectory()) throw new ServerFolderError('NOT_A_FOLDER', `${sdir} is not a folder (the served folder must be a folder)`);
  if (!st) {
    if (!create) throw new ServerFolderError('NO_SUCH_FOLDER', `${sdir} does not exist (no served folder there)`);
    try {
      mkdirSync(sdir, { recursive: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') {
        throw new ServerFolderError('NOT_A_FOLDER', `cannot create ${sdir}: a file is in the way`, { cause: err });
      }
      throw err;
    }
  }
  return realpathSync(sdir);
}

/**
 * Opens the state database of `sdir` (a real path, see resolveServedFolder) read-write, creating the state
 * folder and database when missing unless `create` is false.
 * @throws ServerFolderError NOT_SERVED (no state and not `create`); Error when the state folder is a
 * symlink or not a folder (it must never point outside the root).
 */
export function openStateDb(sdir: string, { create = true }: { create?: boolean } = {}): Db {
  const { stateDir, dbPath } = stateLayout(sdir);
  if (!create && !lstatSync(dbPath, { throwIfNoEntry: false })) {
    throw new ServerFolderError('NOT_SERVED', `${sdir} has never been served by deltabox (no ${join(STATE_DIR, 'state.db')})`);
  }
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const st = lstatSync(stateDir);
  if (!st.isDirectory()) throw new Error(`${stateDir} is not a folder (a symlink is refused)`);
  const dbStat = lstatSync(dbPath, { throwIfNoEntry: false });
  if (dbStat && !dbStat.isFile()) throw new Error(`${dbPath} is not a regular file (a symlink is refused)`);
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  // Writers are serialized by SQLite; a CLI `token create` next to a running server waits instead of failing.
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  migrate(db);
  return db;
}

/** A second, read-only connection: used to stream a snapshot without blocking the main one. */
export function openReadOnly(sdir: string): Db {
  const db = new Database(stateLayout(sdir).dbPath, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

function migrate(db: Db): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
