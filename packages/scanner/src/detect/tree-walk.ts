/**
 * Walks the client folder with synchronous lstat calls (the quick check: no file is opened) and returns
 * what is there. Symlinks, special files and names that are not valid UTF-8 are skipped with a warning,
 * never followed. A folder that is the server's folder (same device and inode) stops the walk: syncing it
 * would feed the server its own files. The same rules also read a listing a worker thread made (walkListing,
 * tree-listing.ts). It does not hash and does not compare with anything: that is the change detector's job.
 */
import { isUtf8 } from 'node:buffer';
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { isValidChildPath, isValidRelativePath } from '@deltabox/protocol';
import { displayBytes } from './escape-name.js';
import { ScannerError } from '../errors.js';
import type { IgnoreRules } from './ignore-rules.js';
import { FIELDS, KIND, type TreeListing } from './tree-listing.js';

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

/** Throws when the folder at `abs` (lstat's `ino` and `dev`) is the server's folder. */
function assertNotServerFolder(abs: string, path: string, ino: number, dev: number, server: FolderId | undefined): void {
  if (server === undefined || ino !== Number(server.ino) || dev !== Number(server.dev)) return;
  const exact = lstatSync(abs, { bigint: true });
  if (exact.ino !== server.ino || exact.dev !== server.dev) return;
  throw new ScannerError(
    'UNSAFE_FOLDER',
    `the client folder contains the server's folder (at ${path}): syncing it would send the server its own files ` +
      'and delete what it holds; use a client folder outside the server folder',
  );
}

/** A folder being walked: its NFC path and its name on disk ('' for the root). */
interface WalkDir {
  path: string;
  diskPath: string;
}

const ROOT_DIR: WalkDir = { path: '', diskPath: '' };

/** lstat's answer as a listing kind (tree-listing.ts). */
function kindOf(st: Stats): number {
  return st.isDirectory() ? KIND.DIR : st.isSymbolicLink() ? KIND.SYMLINK : st.isFile() ? KIND.FILE : KIND.OTHER;
}

/**
 * The rules of the walk, one entry at a time, whoever listed it (walkTree here, or a ListingWorker): which
 * entries are synced, which are skipped with a warning, which folders are walked.
 */
class WalkRules {
  readonly entries = new Map<string, WalkedEntry>();
  readonly unreadableDirs = new Set<string>();
  skipped = 0;
  readonly #prefix: string;
  readonly #rules: IgnoreRules;
  readonly #warn: WarnFn;
  readonly #serverFolder: FolderId | undefined;

  constructor(root: string, rules: IgnoreRules, warn: WarnFn, options: WalkOptions) {
    this.#rules = rules;
    this.#warn = warn;
    this.#serverFolder = options.serverFolder;
    // Absolute names by concatenation, not path.join per entry: readdir's names hold no '/' and are never '.' or
    // '..', so there is nothing to normalise (join showed in the profile of a no-change rescan).
    this.#prefix = root.endsWith('/') ? root : `${root}/`;
  }

  /** The absolute name of `diskPath` under the root. */
  abs(diskPath: string): string {
    return this.#prefix + diskPath;
  }

  #skip(message: string, details: Record<string, unknown>): void {
    this.skipped++;
    this.#warn(message, details);
  }

  unreadable(dir: WalkDir, err: string): void {
    this.#skip('cannot list folder; keeping what was known under it', { path: dir.path || '.', err });
    this.unreadableDirs.add(dir.path);
  }

  /**
   * A name that is not valid UTF-8: the protocol carries UTF-8 paths only, and read back as a string it would
   * name another file. Never silent: each is warned and counted.
   */
  badName(dir: WalkDir, raw: Buffer, isDir: boolean): void {
    const shown = dir.path === '' ? displayBytes(raw) : `${dir.path}/${displayBytes(raw)}`;
    this.#skip(isDir ? 'folder name is not valid UTF-8; skipped with everything under it' : 'name is not valid UTF-8; skipped', { path: shown });
  }

  statFailed(dir: WalkDir, name: string, err: string): void {
    this.#skip('cannot stat; skipped', { path: (dir.diskPath === '' ? name : `${dir.diskPath}/${name}`).normalize('NFC'), err });
  }

  /**
   * One entry `name` of `dir` with its lstat numbers: recorded, or skipped. Returns the folder to walk next
   * when the entry is one.
   * @throws ScannerError UNSAFE_FOLDER when it is the server's folder
   */
  entry(dir: WalkDir, name: string, kind: number, size: number, mtimeMs: number, ino: number, mode: number, dev: number): WalkDir | undefined {
    const diskPath = dir.diskPath === '' ? name : `${dir.diskPath}/${name}`;
    const path = diskPath.normalize('NFC');
    const isDir = kind === KIND.DIR;
    if (isDir) assertNotServerFolder(this.abs(diskPath), path, ino, dev, this.#serverFolder);
    // The folder's NFC path is a prefix of the entry's ('/' neither composes nor reorders in NFC); checked anyway.
    const under = dir.path === '' || (path.charCodeAt(dir.path.length) === 0x2f && path.startsWith(dir.path));
    const ignored = under ? this.#rules.ignoresIn(dir.path, dir.path === '' ? path : path.slice(dir.path.length + 1), isDir) : this.#rules.ignores(path, isDir);
    if (ignored) return undefined;
    if (kind === KIND.SYMLINK) {
      this.#skip('symlink skipped (symlinks are not followed)', { path });
      return undefined;
    }
    if (!isDir && kind !== KIND.FILE) {
      this.#skip('special file skipped', { path });
      return undefined;
    }
    // The folder's path passed this check when it was entered: only the new segment and the length are left.
    if (!(under ? isValidChildPath(dir.path, path) : isValidRelativePath(path))) {
      this.#skip('name breaks the path rule; skipped', { path });
      return undefined;
    }
    const taken = this.entries.get(path);
    if (taken !== undefined) {
      // Two names on disk that are one path in NFC (e.g. an NFC and an NFD "café"): the server can hold
      // only one. Keep the name already in NFC (else the first seen, and always a folder already being
      // walked) and say which name is not synced, every scan, so the skip is never silent.
      const replace = taken.type === 'file' && diskPath === path && taken.diskPath !== path;
      this.#skip('two names are the same path in NFC; only one is synced', {
        path,
        synced: replace ? diskPath : taken.diskPath,
        skipped: replace ? taken.diskPath : diskPath,
      });
      if (!replace) return undefined;
    }
    this.entries.set(path, { path, diskPath, type: isDir ? 'dir' : 'file', size: isDir ? 0 : size, mtimeMs, ino, mode: mode & 0o7777 });
    return isDir ? { path, diskPath } : undefined;
  }

  result(): WalkResult {
    return { entries: this.entries, unreadableDirs: this.unreadableDirs, skipped: this.skipped };
  }
}

/**
 * Lists every file and folder under `root` that the rules do not ignore.
 * Never throws for one bad entry: it warns and goes on.
 * @throws ScannerError UNSAFE_FOLDER when a folder under `root` is `options.serverFolder`
 */
export function walkTree(root: string, rules: IgnoreRules, warn: WarnFn, options: WalkOptions = {}): WalkResult {
  const walk = new WalkRules(root, rules, warn, options);
  // Explicit stack rather than recursion: deep trees must not hit the call-stack limit.
  const stack: WalkDir[] = [ROOT_DIR];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let rawNames: Buffer[];
    try {
      rawNames = readdirSync(dir.diskPath === '' ? root : walk.abs(dir.diskPath), { encoding: 'buffer' });
    } catch (err) {
      walk.unreadable(dir, String(err));
      continue;
    }
    for (const raw of rawNames) {
      if (!isUtf8(raw)) {
        const st = lstatSync(Buffer.concat([Buffer.from(walk.abs(dir.diskPath === '' ? '' : `${dir.diskPath}/`)), raw]), { throwIfNoEntry: false });
        walk.badName(dir, raw, st?.isDirectory() === true);
        continue;
      }
      const name = raw.toString('utf8');
      let st: Stats | undefined;
      try {
        st = lstatSync(walk.abs(dir.diskPath === '' ? name : `${dir.diskPath}/${name}`), { throwIfNoEntry: false });
      } catch (err) {
        walk.statFailed(dir, name, String(err));
        continue;
      }
      if (st === undefined) continue; // deleted between readdir and lstat: the next scan sees it gone
      const next = walk.entry(dir, name, kindOf(st), st.size, st.mtimeMs, st.ino, st.mode, st.dev);
      if (next !== undefined) stack.push(next);
    }
  }
  return walk.result();
}

/**
 * walkTree's answer from a listing a ListingWorker made: the same rules, entry by entry in the same order,
 * skipping what lies under folders the walk does not enter. Undefined when the listing lacks a folder the
 * walk enters (one the worker did not descend into): the caller then walks the folder itself.
 * @throws ScannerError UNSAFE_FOLDER when a folder under `root` is `options.serverFolder`
 */
export function walkListing(listing: TreeListing, root: string, rules: IgnoreRules, warn: WarnFn, options: WalkOptions = {}): WalkResult | undefined {
  const walk = new WalkRules(root, rules, warn, options);
  const { names, nums } = listing;
  /** Folders the walk enters, by their record. */
  const entered = new Map<number, WalkDir>();
  let dir: WalkDir | undefined;
  for (let i = 0, o = 0; i < listing.count; i++, o += FIELDS) {
    const kind = nums[o]!;
    if (kind === KIND.HEADER || kind === KIND.HEADER_ERROR) {
      const record = nums[o + 1]!;
      dir = record === -1 ? ROOT_DIR : entered.get(record);
      if (dir !== undefined && kind === KIND.HEADER_ERROR) walk.unreadable(dir, names[i]!);
      continue;
    }
    if (dir === undefined || kind === KIND.GONE) continue;
    if (kind === KIND.BAD_NAME_FILE || kind === KIND.BAD_NAME_DIR) walk.badName(dir, Buffer.from(names[i]!, 'latin1'), kind === KIND.BAD_NAME_DIR);
    else if (kind === KIND.ERROR) walk.statFailed(dir, names[i]!, listing.errors.get(i) ?? 'unknown error');
    else {
      const pruned = kind === KIND.PRUNED_DIR;
      const next = walk.entry(dir, names[i]!, pruned ? KIND.DIR : kind, nums[o + 1]!, nums[o + 2]!, nums[o + 3]!, nums[o + 4]!, nums[o + 5]!);
      if (next === undefined) continue;
      if (pruned) return undefined;
      entered.set(i, next);
    }
  }
  return walk.result();
}
