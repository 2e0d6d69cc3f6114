/**
 * Startup reconciliation: brings the index in line with the folder after a crash between rename and
 * index update, or after edits made to the folder directly. Unchanged files (same size, mtime, mode)
 * are not re-hashed. Every difference becomes a journal record.
 */
import { createHash } from 'node:crypto';
import type { Mirror } from './mirror.js';
import type { StorageEntry } from './storage/storage.js';
import { isClientStatePath, refuseNestedClient } from './state/client-folder-guard.js';

async function hashFile(mirror: Mirror, path: string): Promise<string> {
  const handle = await mirror.storage.open(path);
  const hash = createHash('sha256');
  for await (const chunk of handle.stream()) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Returns how many index entries changed.
 * @throws ServerFolderError CLIENT_FOLDER_NESTED when the tree holds a client folder (`root` names it)
 */
export async function reconcile(mirror: Mirror, root: string): Promise<number> {
  const indexed = mirror.index.allPaths();
  let changed = 0;
  for await (const e of mirror.storage.walk()) {
    if (e.type === 'file' && isClientStatePath(e.path)) refuseNestedClient(root, e.path);
    const old = indexed.get(e.path);
    indexed.delete(e.path);
    if (e.type === 'dir') {
      if (old?.type === 'dir') continue;
      if (old) mirror.record([{ change: { op: 'delete', path: e.path }, removeTree: e.path }]);
      mirror.record([{ change: { op: 'mkdir', path: e.path }, upsert: dirEntry(e) }]);
      changed++;
      continue;
    }
    if (old?.type === 'file' && old.size === e.size && old.mtimeMs === e.mtimeMs && old.executable === e.executable) continue;
    const hash = await hashFile(mirror, e.path);
    const steps = old?.type === 'dir' ? [{ change: { op: 'rmdir' as const, path: e.path }, removeTree: e.path }] : [];
    mirror.record([
      ...steps,
      {
        change: { op: 'put', path: e.path, hash, size: e.size },
        upsert: { path: e.path, type: 'file', size: e.size, mtimeMs: e.mtimeMs, hash, executable: e.executable },
      },
    ]);
    changed++;
  }
  // Whatever is left is gone from disk; shortest paths first so a folder covers its children.
  const gone = [...indexed.values()].sort((a, b) => a.path.length - b.path.length);
  for (const entry of gone) {
    if (!mirror.index.get(entry.path)) continue;
    mirror.record([{ change: { op: entry.type === 'dir' ? 'rmdir' : 'delete', path: entry.path }, removeTree: entry.path }]);
    changed++;
  }
  if (changed) mirror.index.pruneSignatures();
  return changed;
}

function dirEntry(e: StorageEntry): { path: string; type: 'dir'; size: number; mtimeMs: number } {
  return { path: e.path, type: 'dir', size: 0, mtimeMs: e.mtimeMs };
}
