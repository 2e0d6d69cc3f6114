/**
 * Decides, from the local and remote views, the one next step that brings a queued path closer to the
 * server mirroring it. Pure: the transfer executes the step and asks again until the answer is `noop`,
 * which is what makes replays after a crash or a lost response harmless.
 */
import type { LocalEntry } from '../detect/change-detector.js';
import type { QueueEntry } from '../queue/op-queue.js';
import type { RemoteEntry } from '../state/state-store.js';

export type Step =
  | { type: 'noop' }
  /** Waits for queued moves out of this path or folder before removing it. */
  | { type: 'blocked' }
  | { type: 'mkdir'; path: string }
  | { type: 'rmdir'; path: string }
  | { type: 'delete'; path: string; ifMatch?: string }
  /**
   * A file (`hash` set, checked by the server) or a whole folder moved on the server. `revive`: `from` was
   * deleted on the server since the base: the server brings that file back at `path` (MoveRequest.revive).
   */
  | { type: 'move'; path: string; from: string; hash?: string; revive?: true }
  | { type: 'upload'; path: string; local: LocalEntry; base?: RemoteEntry };

export interface PlanContext {
  local: ReadonlyMap<string, LocalEntry>;
  remote: ReadonlyMap<string, RemoteEntry>;
  /** What this device and the server last agreed on (two-way; empty in push mode). */
  base: ReadonlyMap<string, RemoteEntry>;
  /** True while a queued move takes content from `path` (or from below it when `includeBelow`), other than `exceptPath`'s. */
  hasMoveFrom(path: string, includeBelow: boolean, exceptPath?: string): boolean;
  /** True while a queued move targets a folder above `path`. */
  hasMoveAbove(path: string): boolean;
  /** True while a queued move targets a path below folder `path`. */
  hasMoveInto(path: string): boolean;
}

/**
 * A move of the local file at `path` from `from` that the server can only make as a revive: `from` is gone
 * from the server and from here, and the base held it with the bytes the file at `path` has.
 */
export function isRevivable(move: { path: string; from: string }, ctx: Pick<PlanContext, 'local' | 'remote' | 'base'>): boolean {
  const hash = ctx.local.get(move.path)?.hash;
  return hash !== undefined && !ctx.remote.has(move.from) && !ctx.local.has(move.from) && ctx.base.get(move.from)?.hash === hash;
}

/** True when the server's entry already matches the local one (content, type, executable bit, whole-ms mtime). */
export function inSync(local: LocalEntry | undefined, remote: RemoteEntry | undefined): boolean {
  if (local === undefined || remote === undefined) return local === remote;
  if (local.type !== remote.type) return false;
  if (local.type === 'dir') return true;
  return (
    local.hash === remote.hash &&
    ((local.mode & 0o111) !== 0) === remote.executable &&
    Math.trunc(local.mtimeMs) === Math.trunc(remote.mtimeMs)
  );
}

export function planStep(entry: Pick<QueueEntry, 'path' | 'kind' | 'from'>, ctx: PlanContext): Step {
  const { path } = entry;
  const local = ctx.local.get(path);
  const remote = ctx.remote.get(path);
  // Before the in-sync check: what a pending folder move brings along is not known until it is done.
  if (ctx.hasMoveAbove(path)) return { type: 'blocked' };
  if (inSync(local, remote)) return { type: 'noop' };

  if (local === undefined) {
    if (remote!.type === 'dir') return ctx.hasMoveFrom(path, true) ? { type: 'blocked' } : { type: 'rmdir', path };
    if (ctx.hasMoveFrom(path, false)) return { type: 'blocked' };
    return remote!.hash === undefined ? { type: 'delete', path } : { type: 'delete', path, ifMatch: remote!.hash };
  }
  if (local.type === 'dir') {
    if (entry.kind === 'move' && entry.from !== undefined && remote === undefined) {
      const source = ctx.remote.get(entry.from);
      if (source?.type === 'dir' && !ctx.local.has(entry.from)) {
        // Moves of files out of the old folder go first, or this move would carry them along.
        return ctx.hasMoveFrom(entry.from, true, path) ? { type: 'blocked' } : { type: 'move', path, from: entry.from };
      }
    }
    if (remote?.type === 'file') return remote.hash === undefined ? { type: 'delete', path } : { type: 'delete', path, ifMatch: remote.hash };
    // A new folder that moves of files fill (a folder moved here whose source was deleted there: revives):
    // the server makes it for them. Made first, it stayed behind empty on every device when the server sent
    // the files to another device's copy of the folder instead. (A folder's own move is never held so: the
    // moves below it wait for that one.)
    if (remote === undefined && entry.kind !== 'move' && ctx.hasMoveInto(path)) return { type: 'blocked' };
    return { type: 'mkdir', path };
  }
  if (local.hash === undefined) return { type: 'noop' }; // never read successfully: nothing to send yet
  if (remote?.type === 'dir') return ctx.hasMoveFrom(path, true) ? { type: 'blocked' } : { type: 'rmdir', path };

  if (entry.kind === 'move' && entry.from !== undefined && remote?.hash !== local.hash) {
    const source = ctx.remote.get(entry.from);
    if (source?.type === 'file' && source.hash === local.hash && !ctx.local.has(entry.from)) {
      return { type: 'move', path, from: entry.from, hash: local.hash };
    }
    // Moved here, deleted on the server since: the server brings its copy back here, or says where another
    // device already did (move against move, decided by the server).
    if (remote === undefined && isRevivable({ path, from: entry.from }, ctx)) {
      return { type: 'move', path, from: entry.from, hash: local.hash, revive: true };
    }
  }
  return remote === undefined ? { type: 'upload', path, local } : { type: 'upload', path, local, base: remote };
}
