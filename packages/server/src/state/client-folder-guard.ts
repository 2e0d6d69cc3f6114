/**
 * The nesting guard: a server must never serve a folder that is a deltabox client folder, lies inside one
 * or contains one. A client syncing into its own server's folder deletes the user's files (issue 9). A
 * client folder is recognised by the scanner's state database, `.deltabox/state.sqlite` (the server's is
 * `.deltabox/state.db`). Only real paths are compared, so a symlinked way in changes nothing.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { STATE_DIR } from '@deltabox/protocol';
import { ServerFolderError } from '../server-folder-error.js';

/** The scanner's state database inside its `.deltabox/` (packages/scanner/src/constants.ts STATE_DB_FILE). */
export const CLIENT_STATE_DB_FILE = 'state.sqlite';

/** True when `absDir` holds a scanner's state database (a regular file, not followed if a symlink). */
export function isClientFolder(absDir: string): boolean {
  try {
    return lstatSync(join(absDir, STATE_DIR, CLIENT_STATE_DB_FILE)).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false; // a file named like a folder on the way
    throw err;
  }
}

/** True when a relative path of the served tree is a client folder's state database. */
export function isClientStatePath(relPath: string): boolean {
  return relPath.endsWith(`/${STATE_DIR}/${CLIENT_STATE_DB_FILE}`);
}

/** The real path of `path`, or of its nearest existing ancestor when it does not exist yet. */
function nearestRealPath(path: string): { real: string; exists: boolean } {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      return { real: realpathSync(dir), exists: dir === resolve(path) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(dir) === dir) throw err;
    }
  }
}

/**
 * Refuses `sdir` when its real path (or, before it exists, its nearest existing ancestor's) or one of its
 * ancestors is a client folder. Call before creating anything.
 * @throws ServerFolderError CLIENT_FOLDER_NESTED
 */
export function assertNotInClientFolder(sdir: string): void {
  const { real, exists } = nearestRealPath(sdir);
  for (let dir = real; ; dir = dirname(dir)) {
    if (isClientFolder(dir)) {
      const where = dir === real && exists ? 'is itself a deltabox client folder' : `lies inside the deltabox client folder ${dir}`;
      throw new ServerFolderError(
        'CLIENT_FOLDER_NESTED',
        `refusing to serve ${sdir}: it ${where} (${join(dir, STATE_DIR, CLIENT_STATE_DB_FILE)}); syncing a folder into itself deletes files. Serve a folder outside every client folder.`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}

/**
 * Refuses a served tree that holds a client folder at `relPath` (a `<dir>/.deltabox/state.sqlite` met while
 * indexing). @throws ServerFolderError CLIENT_FOLDER_NESTED
 */
export function refuseNestedClient(root: string, relPath: string): never {
  const clientDir = relPath.slice(0, -`/${STATE_DIR}/${CLIENT_STATE_DB_FILE}`.length);
  throw new ServerFolderError(
    'CLIENT_FOLDER_NESTED',
    `refusing to serve ${root}: it contains the deltabox client folder ${join(root, ...clientDir.split('/'))}; syncing a folder into itself deletes files. Move the client folder out of the served folder.`,
  );
}
