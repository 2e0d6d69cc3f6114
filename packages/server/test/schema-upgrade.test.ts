/**
 * Schema upgrade: a state database made by a server without version history (migrations 1 and 2: the
 * stat token) is upgraded in place to migration 3 (versions table, entries.device), keeps its rows, and
 * the upgraded server keeps versions from then on. A database at migration 3 upgrades to 4 (file ids): its
 * entries get distinct ids, its past versions the id of the file at their path, and history follows a move.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryResponse } from '@deltabox/protocol';
import { buildApp, createToken } from '../src/index.js';
import { openStateDb } from '../src/state/database.js';

const sha = (b: string): string => createHash('sha256').update(b).digest('hex');

/** The migration list of the server before version history (main's database.ts, verbatim). */
const MAIN_MIGRATIONS: string[] = [
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
];


/** A served folder as that server leaves it: `a.txt` indexed (with a stat token), user_version 2. */
function oldServedFolder(t: Tap.Test): string {
  const base = mkdtempSync(join(tmpdir(), 'dbx-upgrade-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const sdir = join(base, 'served');
  mkdirSync(join(sdir, '.deltabox'), { recursive: true, mode: 0o700 });
  writeFileSync(join(sdir, 'a.txt'), 'one');
  const st = statSync(join(sdir, 'a.txt'));
  const db = new Database(join(sdir, '.deltabox', 'state.db'));
  for (const [i, m] of MAIN_MIGRATIONS.entries()) {
    db.exec(m);
    db.pragma(`user_version = ${i + 1}`);
  }
  db.prepare('INSERT INTO changes (op, path, hash, size, time_ms) VALUES (?, ?, ?, ?, ?)').run('put', 'a.txt', sha('one'), 3, Date.now());
  db.prepare('INSERT INTO entries (path, type, size, mtime_ms, hash, executable, revision, stat_token) VALUES (?, ?, ?, ?, ?, 0, 1, ?)')
    .run('a.txt', 'file', 3, Math.round(st.mtimeMs), sha('one'), `${st.ino}:${st.mtimeMs}`);
  db.close();
  return sdir;
}

t.test('a database at migration 2 (stat token) upgrades through 3 and keeps its rows', async (t) => {
  const sdir = oldServedFolder(t);
  const db = openStateDb(sdir);
  try {
    t.equal(db.pragma('user_version', { simple: true }), 5, 'through 3 (history) to the latest');
    const columns = (db.prepare('PRAGMA table_info(entries)').all() as Array<{ name: string }>).map((c) => c.name);
    t.ok(columns.includes('stat_token'), 'stat_token kept');
    t.ok(columns.includes('device'), 'device added');
    t.ok(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'versions'").get(), 'versions table made');
    const row = db.prepare('SELECT hash, stat_token FROM entries WHERE path = ?').get('a.txt') as { hash: string; stat_token: string | null };
    t.equal(row.hash, sha('one'));
    t.ok(row.stat_token, 'the old stat token survives');
  } finally {
    db.close();
  }
});

t.test('the upgraded server keeps the version a replace ends', async (t) => {
  const sdir = oldServedFolder(t);
  const app = await buildApp({ sdir });
  t.teardown(() => app.close());
  const token = createToken(sdir, { name: 'laptop' });
  const auth = { authorization: `Bearer ${token}` };
  const put = await app.inject({ method: 'PUT', url: '/v1/files/a.txt', headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: 'two' });
  t.equal(put.statusCode, 200, put.body);
  const history = (await app.inject({ method: 'GET', url: '/v1/history/a.txt', headers: auth })).json<HistoryResponse>();
  t.equal(history.current?.hash, sha('two'));
  t.equal(history.current?.device, 'laptop');
  t.same(history.versions.map((v) => v.hash), [sha('one')], 'the pre-upgrade version is kept');
});

/** Migration 3 of the server before file ids (database.ts, verbatim). */
const HISTORY_MIGRATION = `CREATE TABLE versions (
     id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL,
     mtime_ms INTEGER NOT NULL, executable INTEGER NOT NULL, device TEXT, revision INTEGER NOT NULL,
     since_ms INTEGER NOT NULL, time_ms INTEGER NOT NULL, deleted INTEGER NOT NULL
   );
   CREATE INDEX versions_path ON versions(path, time_ms);
   CREATE INDEX versions_hash ON versions(hash);
   ALTER TABLE entries ADD COLUMN device TEXT;`;

/** A served folder of a server with history but no file ids: a.txt ("two") with its past version "one", b.txt. */
async function historyServedFolder(t: Tap.Test): Promise<string> {
  const sdir = oldServedFolder(t);
  const db = new Database(join(sdir, '.deltabox', 'state.db'));
  db.exec(HISTORY_MIGRATION);
  db.pragma('user_version = 3');
  db.close();
  // Today's write path makes the versions row and its object (a.txt "one" -> "two"); then the file-id columns
  // are dropped again, leaving exactly what a migration-3 server wrote.
  const app = await buildApp({ sdir });
  const token = createToken(sdir, { name: 'laptop' });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' };
  for (const [url, payload] of [['/v1/files/a.txt', 'two'], ['/v1/files/b.txt', 'bee']] as const) {
    const res = await app.inject({ method: 'PUT', url, headers, payload });
    if (res.statusCode !== 200) throw new Error(res.body);
  }
  await app.close();
  const raw = new Database(join(sdir, '.deltabox', 'state.db'));
  raw.exec('DROP INDEX entries_file; ALTER TABLE entries DROP COLUMN file_id; DROP INDEX versions_file; ALTER TABLE versions DROP COLUMN file_id');
  raw.pragma('user_version = 3');
  raw.close();
  return sdir;
}

t.test('a database at migration 3 (history) upgrades to 5: distinct file ids, past versions linked, moves carry them', async (t) => {
  const sdir = await historyServedFolder(t);
  const db = openStateDb(sdir);
  try {
    t.equal(db.pragma('user_version', { simple: true }), 5, 'through 4 (file ids) and 5 (their index)');
    t.ok(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'entries_file'").get(), 'entries indexed by file id (revives look a file up by it)');
    const ids = db.prepare("SELECT path, file_id FROM entries WHERE type = 'file' ORDER BY path").all() as Array<{ path: string; file_id: number }>;
    t.same(ids.map((r) => r.path), ['a.txt', 'b.txt']);
    t.ok(ids.every((r) => r.file_id < 0), 'old rows get negative ids, never a revision');
    t.not(ids[0]!.file_id, ids[1]!.file_id, 'and distinct ones');
    const version = db.prepare('SELECT file_id FROM versions WHERE path = ?').get('a.txt') as { file_id: number };
    t.equal(version.file_id, ids[0]!.file_id, 'the past version of a.txt takes the id of the file at a.txt');
  } finally {
    db.close();
  }
  const app = await buildApp({ sdir });
  t.teardown(() => app.close());
  const auth = { authorization: `Bearer ${createToken(sdir, { name: 'phone' })}` };
  const moved = await app.inject({ method: 'POST', url: '/v1/moves', headers: { ...auth, 'content-type': 'application/json' }, payload: { from: 'a.txt', to: 'c.txt' } });
  t.equal(moved.statusCode, 200, moved.body);
  const history = (await app.inject({ method: 'GET', url: '/v1/history/c.txt', headers: auth })).json<HistoryResponse>();
  t.same(history.versions.map((v) => [v.path, v.hash]), [['a.txt', sha('one')]], 'the pre-upgrade version follows the move');
});
