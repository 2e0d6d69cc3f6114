/**
 * Walks the client folder with synchronous lstat calls (the quick check: no file is opened) and returns
 * what is there. Symlinks and special files are skipped with a warning, never followed. It does not hash
 * and does not compare with anything: that is the change detector's job.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { isValidRelativePath } from '@deltabox/protocol';
import type { IgnoreRules } from './ignore-rules.js';

export type EntryType = 'file' | 'dir';

/** One entry as the quick check sees it. `path` is NFC (the protocol's form); `diskPath` is the name on disk. */
export interface WalkedEntry {
  path: string;
  diskPath: string;
  type: EntryType;
  size: number;
  mtimeMs: number;
  ino: number;
  mode: number;
}

export interface WalkResult {
  entries: Map<string, WalkedEntry>;
  /** Folders that could not be listed: what was known under them must be kept, not deleted. */
  unreadableDirs: Set<string>;
}

export type WarnFn = (message: string, details: Record<string, unknown>) => void;

/** Builds a WalkedEntry from an lstat result. */
export function walkedEntryOf(path: string, diskPath: string, st: Stats): WalkedEntry {
  return {
    path,
    diskPath,
    type: st.isDirectory() ? 'dir' : 'file',
    size: st.isDirectory() ? 0 : st.size,
    mtimeMs: st.mtimeMs,
    ino: st.ino,
    mode: st.mode & 0o7777,
  };
}

/**
 * Lists every file and folder under `root` that the rules do not ignore.
 * Never throws for one bad entry: it warns and goes on.
 */
export function walkTree(root: string, rules: IgnoreRules, warn: WarnFn): WalkResult {
  const entries = new Map<string, WalkedEntry>();
  const unreadableDirs = new Set<string>();
  // Explicit stack rather than recursion: deep trees must not hit the call-stack limit.
  const stack: Array<{ path: string; diskPath: string }> = [{ path: '', diskPath: '' }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(dir.diskPath === '' ? root : join(root, dir.diskPath));
    } catch (err) {
      warn('cannot list folder; keeping what was known under it', { path: dir.path || '.', err: String(err) });
      unreadableDirs.add(dir.path);
      continue;
    }
    for (const name of names) {
      const diskPath = dir.diskPath === '' ? name : `${dir.diskPath}/${name}`;
      const path = diskPath.normalize('NFC');
      let st: Stats | undefined;
      try {
        st = lstatSync(join(root, diskPath), { throwIfNoEntry: false });
      } catch (err) {
        warn('cannot stat; skipped', { path, err: String(err) });
        continue;
      }
      if (st === undefined) continue; // deleted between readdir and lstat: the next scan sees it gone
      const isDir = st.isDirectory();
      if (rules.ignores(path, isDir)) continue;
      if (st.isSymbolicLink()) {
        warn('symlink skipped (symlinks are not followed)', { path });
        continue;
      }
      if (!isDir && !st.isFile()) {
        warn('special file skipped', { path });
        continue;
      }
      if (!isValidRelativePath(path)) {
        warn('name breaks the path rule; skipped', { path });
        continue;
      }
      const taken = entries.get(path);
      if (taken !== undefined) {
        // Two names on disk that are one path in NFC (e.g. an NFC and an NFD "café"): the server can hold
        // only one. Keep the name already in NFC (else the first seen, and always a folder already being
        // walked) and say which name is not synced, every scan, so the skip is never silent.
        const replace = taken.type === 'file' && diskPath === path && taken.diskPath !== path;
        warn('two names are the same path in NFC; only one is synced', {
          path,
          synced: replace ? diskPath : taken.diskPath,
          skipped: replace ? taken.diskPath : diskPath,
        });
        if (!replace) continue;
      }
      entries.set(path, walkedEntryOf(path, diskPath, st));
      if (isDir) stack.push({ path, diskPath });
    }
  }
  return { entries, unreadableDirs };
}
