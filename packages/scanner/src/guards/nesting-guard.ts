/**
 * The nesting guard: a client folder that is the server's folder, lies inside it or contains it (also
 * when reached through symlinks) must never be synced: the scanner would delete the server's files to
 * match the client, or feed the server its own files. The server tells its folder's device and inode
 * (GET /v1/folder); here the client folder's real path and each of its ancestors are compared with it.
 * The "contains" direction is checked by the tree walk (tree-walk.ts, `serverFolder`). Before any of that,
 * and before the scanner writes its state, a local check refuses a client folder that is, or lies in, a
 * folder some deltabox server has served (its index in `.deltabox/`): the scanner would otherwise clear
 * that server's temp files and leave a client state in its folder.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { STATE_DIR, type FolderIdentityResponse } from '@deltabox/protocol';
import { SERVER_STATE_DB_FILE } from '../constants.js';
import { ScannerError } from '../errors.js';
import type { FolderId } from '../detect/tree-walk.js';

/** The server folder's identity as bigints; undefined when the response does not hold two decimal numbers. */
export function folderIdOf(identity: FolderIdentityResponse): FolderId | undefined {
  if (!/^\d+$/.test(identity.dev ?? '') || !/^\d+$/.test(identity.ino ?? '')) return undefined;
  return { dev: BigInt(identity.dev), ino: BigInt(identity.ino) };
}

/**
 * Throws when `root` (after resolving symlinks; it may not exist yet) or one of its ancestors holds a
 * server's index, `.deltabox/state.db`. No network: runs before the scanner creates its state.
 * @throws ScannerError UNSAFE_FOLDER
 */
export function assertNoServerFolderAbove(root: string): void {
  let dir = root;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const real = realpathSync(dir);
  for (let d = real; ; d = dirname(d)) {
    if (existsSync(join(d, STATE_DIR, SERVER_STATE_DB_FILE))) {
      const where = d === real && dir === root ? `is a deltabox server's folder (${d})` : `lies inside a deltabox server's folder (${d})`;
      throw new ScannerError(
        'UNSAFE_FOLDER',
        `refusing to sync: the client folder ${root} ${where}; the server would delete its own files to mirror it. ` +
          'Use a client folder outside the server folder',
      );
    }
    if (dirname(d) === d) return;
  }
}

/**
 * Throws when `root` (after resolving symlinks) is the server's folder or lies inside it.
 * @throws ScannerError UNSAFE_FOLDER
 */
export function assertNotInsideServer(root: string, server: FolderId): void {
  const real = realpathSync(root);
  for (let dir = real; ; dir = dirname(dir)) {
    const st = statSync(dir, { bigint: true });
    if (st.dev === server.dev && st.ino === server.ino) {
      const where = dir === real ? `is the server's folder (${real})` : `lies inside the server's folder (${dir})`;
      throw new ScannerError(
        'UNSAFE_FOLDER',
        `refusing to sync: the client folder ${root} ${where}; the server would delete its own files to mirror it. ` +
          'Use a client folder outside the server folder',
      );
    }
    if (dirname(dir) === dir) return;
  }
}
