/**
 * The verification pass: brings the index in line with the folder after a crash between rename and index
 * update, or after files were edited, deleted or added behind the server's back. Runs at startup and then
 * periodically (ServerLimits.verifyIntervalMs). A stat walk compares each path with its index row; only the
 * paths that differ are re-checked under their lock, hashed if needed and journaled (disk-check.ts), so a
 * pass runs safely beside live requests.
 */
import type { Mirror } from './mirror.js';
import { compareWithDisk } from './disk-check.js';
import { isClientStatePath, refuseNestedClient } from './state/client-folder-guard.js';

/** What a pass did. */
export interface VerifyResult {
  /** Paths walked on disk. */
  walked: number;
  /** Paths whose index row was re-checked (the stat differed, or the path was missing on one side). */
  rechecked: number;
  /** Paths whose index row the pass changed (each with a journal record). */
  changed: number;
}

/**
 * Walks the folder and re-checks every path whose stat differs from the index.
 * @throws ServerFolderError CLIENT_FOLDER_NESTED when the tree holds a client folder (`root` names it)
 */
export async function reconcile(mirror: Mirror, root: string): Promise<VerifyResult> {
  const indexed = mirror.index.allPaths();
  let walked = 0;
  const suspects: string[] = [];
  for await (const e of mirror.storage.walk()) {
    walked++;
    if (e.type === 'file' && isClientStatePath(e.path)) refuseNestedClient(root, e.path);
    if (compareWithDisk(indexed.get(e.path), e) !== 'same') suspects.push(e.path);
    indexed.delete(e.path);
  }
  // Whatever is left is gone from disk (or was unreadable); shortest paths first so a folder covers its children.
  const gone = [...indexed.keys()].sort((a, b) => a.length - b.length);
  let changed = 0;
  for (const path of [...suspects, ...gone]) if (await mirror.refresh(path)) changed++;
  return { walked, rechecked: suspects.length + gone.length, changed };
}
