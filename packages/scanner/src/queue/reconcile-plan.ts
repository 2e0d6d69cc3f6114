/**
 * After a fresh manifest: every path where the server differs from the client folder, as queue entries
 * (server-side extras are removed: the client is the source of truth). Files the server holds under another
 * name are moved rather than uploaded. Pure.
 */
import type { LocalEntry } from '../detect/change-detector.js';
import type { QueueKind } from './op-queue.js';
import type { RemoteEntry } from '../state/state-store.js';
import { inSync } from '../transfer/transfer-plan.js';

export interface QueueRequest {
  path: string;
  kind: QueueKind;
  from?: string;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

export function diffForQueue(local: ReadonlyMap<string, LocalEntry>, remote: ReadonlyMap<string, RemoteEntry>): QueueRequest[] {
  const extrasByHash = new Map<string, string[]>();
  for (const row of remote.values()) {
    if (local.has(row.path) || row.type !== 'file' || row.hash === undefined || row.size === 0) continue;
    const list = extrasByHash.get(row.hash) ?? [];
    list.push(row.path);
    extrasByHash.set(row.hash, list);
  }
  const dirs: QueueRequest[] = [];
  const moves: QueueRequest[] = [];
  const files: QueueRequest[] = [];
  const movedFrom = new Set<string>();
  for (const row of local.values()) {
    const there = remote.get(row.path);
    if (inSync(row, there)) continue;
    if (row.type === 'dir') {
      dirs.push({ path: row.path, kind: 'sync' });
      continue;
    }
    const source = there === undefined && row.hash !== undefined ? extrasByHash.get(row.hash)?.shift() : undefined;
    if (source !== undefined) {
      movedFrom.add(source);
      moves.push({ path: row.path, kind: 'move', from: source });
    } else files.push({ path: row.path, kind: 'sync' });
  }
  const removals: QueueRequest[] = [];
  const removedDirs: QueueRequest[] = [];
  for (const row of remote.values()) {
    if (local.has(row.path) || movedFrom.has(row.path)) continue;
    const parent = parentOf(row.path);
    if (parent !== '' && remote.has(parent) && !local.has(parent)) continue; // the parent's removal covers it
    (row.type === 'dir' ? removedDirs : removals).push({ path: row.path, kind: 'sync' });
  }
  const depth = (r: QueueRequest) => r.path.split('/').length;
  dirs.sort((a, b) => depth(a) - depth(b));
  removedDirs.sort((a, b) => depth(b) - depth(a));
  return [...dirs, ...moves, ...files, ...removals, ...removedDirs];
}
