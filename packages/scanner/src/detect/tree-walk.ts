/**
 * Walks the client folder with synchronous lstat calls (the quick check: no file is opened) and returns
 * what is there. Symlinks, special files and names that are not valid UTF-8 are skipped with a warning,
 * never followed. A folder that is the server's folder (same device and inode) stops the walk: syncing it
 * would feed the server its own files. It does not hash and does not compare with anything: that is the
 * change detector's job.
 */
import { isUtf8 } from 'node:buffer';
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { isValidRelativePath } from '@deltabox/protocol';
import { displayBytes } from './escape-name.js';
import { ScannerError } from '../errors.js';
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
  /** Entries skipped with a warning (symlinks, special files, unusable names, unreadable entries). */
  skipped: number;
}

/** A folder's identity: device and inode from a bigint stat (numbers lose precision past 2^53). */
export interface FolderId {
  dev: bigint;
  ino: bigint;
}

export interface WalkOptions {
  /** The server's folder: meeting it under the root throws ScannerError UNSAFE_FOLDER. */
  serverFolder?: FolderId;
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

/** Throws when the folder at `abs` (lstat `st`) is the server's folder. */
function assertNotServerFolder(abs: string, path: string, st: Stats, server: FolderId | undefined): void {
  if (server === undefined || st.ino !== Number(server.ino) || st.dev !== Number(server.dev)) return;
  const exact = lstatSync(abs, { bigint: true });
  if (exact.ino !== server.ino || exact.dev !== server.dev) return;
  throw new ScannerError(
    'UNSAFE_FOLDER',
    `the client folder contains the server's folder (at ${path}): syncing it would send the server its own files ` +
      'and delete what it holds; use a client folder outside the server folder',
  );
}

/**
 * Lists every file and folder under `root` that the rules do not ignore.
 * Never throws for one bad entry: it warns and goes on.
 * @throws ScannerError UNSAFE_FOLDER when a folder under `root` is `options.serverFolder`
 */
export function walkTree(root: string, rules: IgnoreRules, warn: WarnFn, options: WalkOptions = {}): WalkResult {
  const entries = new Map<string, WalkedEntry>();
  const unreadableDirs = new Set<string>();
  let skipped = 0;
  const skip = (message: string, details: Record<string, unknown>) => {
    skipped++;
    warn(message, details);
  };
  // Absolute names by concatenation, not path.join per entry: readdir's names hold no '/' and are never '.' or
  // '..', so there is nothing to normalise (join showed in the profile of a no-change rescan).
  const prefix = root.endsWith('/') ? root : `${root}/`;
  // Explicit stack rather than recursion: deep trees must not hit the call-stack limit.
  const stack: Array<{ path: string; diskPath: string }> = [{ path: '', diskPath: '' }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let rawNames: Buffer[];
    try {
      rawNames = readdirSync(dir.diskPath === '' ? root : prefix + dir.diskPath, { encoding: 'buffer' });
    } catch (err) {
      skip('cannot list folder; keeping what was known under it', { path: dir.path || '.', err: String(err) });
      unreadableDirs.add(dir.path);
      continue;
    }
    for (const raw of rawNames) {
      if (!isUtf8(raw)) {
        // The protocol carries UTF-8 paths only: such a name cannot be sent, and read back as a string it
        // would name another file. Never silent: each is warned and counted.
        const shown = dir.path === '' ? displayBytes(raw) : `${dir.path}/${displayBytes(raw)}`;
        const isDir = lstatSync(Buffer.concat([Buffer.from(dir.diskPath === '' ? prefix : `${prefix}${dir.diskPath}/`), raw]), { throwIfNoEntry: false })?.isDirectory();
        skip(isDir ? 'folder name is not valid UTF-8; skipped with everything under it' : 'name is not valid UTF-8; skipped', { path: shown });
        continue;
      }
      const name = raw.toString('utf8');
      const diskPath = dir.diskPath === '' ? name : `${dir.diskPath}/${name}`;
      const path = diskPath.normalize('NFC');
      const abs = prefix + diskPath;
      let st: Stats | undefined;
      try {
        st = lstatSync(abs, { throwIfNoEntry: false });
      } catch (err) {
        skip('cannot stat; skipped', { path, err: String(err) });
        continue;
      }
      if (st === undefined) continue; // deleted between readdir and lstat: the next scan sees it gone
      const isDir = st.isDirectory();
      if (isDir) assertNotServerFolder(abs, path, st, options.serverFolder);
      // The folder's NFC path is a prefix of the entry's ('/' neither composes nor reorders in NFC); checked anyway.
      const under = dir.path === '' || (path.charCodeAt(dir.path.length) === 0x2f && path.startsWith(dir.path));
      const ignored = under ? rules.ignoresIn(dir.path, dir.path === '' ? path : path.slice(dir.path.length + 1), isDir) : rules.ignores(path, isDir);
      if (ignored) continue;
      if (st.isSymbolicLink()) {
        skip('symlink skipped (symlinks are not followed)', { path });
        continue;
      }
      if (!isDir && !st.isFile()) {
        skip('special file skipped', { path });
        continue;
      }
      if (!isValidRelativePath(path)) {
        skip('name breaks the path rule; skipped', { path });
        continue;
      }
      const taken = entries.get(path);
      if (taken !== undefined) {
        // Two names on disk that are one path in NFC (e.g. an NFC and an NFD "café"): the server can hold
        // only one. Keep the name already in NFC (else the first seen, and always a folder already being
        // walked) and say which name is not synced, every scan, so the skip is never silent.
        const replace = taken.type === 'file' && diskPath === path && taken.diskPath !== path;
        skip('two names are the same path in NFC; only one is synced', {
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
  return { entries, unreadableDirs, skipped };
}
