/**
 * One scanner per client folder: a lock file `.deltabox/scanner.lock` holding the owner's pid. A lock left
 * by a process that no longer exists (killed, crashed) is taken over. Not a security boundary.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { ScannerError } from '../errors.js';

const LOCK_FILE = 'scanner.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock in `stateDir`; returns its release function. @throws ScannerError BAD_CONFIG when held */
export function lockFolder(stateDir: string): () => void {
  const file = join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new ScannerError('BAD_CONFIG', `another scanner (pid ${pid}) is syncing this folder`);
      }
      rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new ScannerError('BAD_CONFIG', `cannot take the folder lock ${file}`);
}
