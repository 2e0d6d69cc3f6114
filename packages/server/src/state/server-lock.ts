/**
 * One server per served folder: the server holds an exclusive SQLite lock on `.deltabox/server.lock` for
 * as long as it runs. The lock is the kernel's (fcntl, taken by SQLite), so a crashed or SIGKILLed server
 * leaves nothing to clean up: the kernel drops its lock with the process and the next server simply
 * takes it. `.deltabox/server.pid` only names the holder in the refusal message; it is never trusted.
 * Token commands do not take this lock (they may run beside a server).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ServerFolderError } from '../server-folder-error.js';
import { stateLayout } from './database.js';

const LOCK_FILE = 'server.lock';
const PID_FILE = 'server.pid';

function holderPid(stateDir: string): string {
  try {
    const pid = readFileSync(join(stateDir, PID_FILE), 'utf8').trim();
    return /^\d+$/.test(pid) ? ` (pid ${pid})` : '';
  } catch {
    return '';
  }
}

/**
 * Takes the folder's server lock; returns its release function (idempotent). Never waits.
 * @throws ServerFolderError FOLDER_IN_USE when another server (process or app in this process) holds it
 */
export function lockServedFolder(root: string): () => void {
  const { stateDir } = stateLayout(root);
  const db = new Database(join(stateDir, LOCK_FILE), { timeout: 0 });
  try {
    // EXCLUSIVE locking mode: the lock taken by the first write is kept until the connection closes.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY'); // the table is a placeholder: no journal file beside the lock
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new ServerFolderError(
        'FOLDER_IN_USE',
        `another deltabox server${holderPid(stateDir)} is already serving ${root}; stop it first (one server per folder)`,
        { cause: err },
      );
    }
    throw err;
  }
  writeFileSync(join(stateDir, PID_FILE), `${process.pid}\n`);
  return () => {
    if (db.open) db.close();
  };
}
