/**
 * Digests of real folders: per-entry type, SHA-256, executable bit and mtime, compared client against
 * server; a whole-tree hash for "nothing changed"; and the server's staged (temp) files.
 * Skips the state folder `.deltabox` except where a function says otherwise.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface TreeEntry {
  type: 'file' | 'dir';
  hash?: string;
  executable?: boolean;
  mtimeMs?: number;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every file and folder under `root` (not `.deltabox`, not symlinks), by NFC path. */
export function treeDigest(root: string): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(rel ? join(root, rel) : root)) {
      const path = rel ? `${rel}/${name}` : name;
      if (path === '.deltabox') continue;
      let st;
      try {
        st = lstatSync(join(root, path));
      } catch {
        continue; // vanished while walking: the next poll sees the settled tree
      }
      if (st.isDirectory()) {
        out.set(path.normalize('NFC'), { type: 'dir' });
        walk(path);
      } else if (st.isFile()) {
        let hash: string;
        try {
          hash = sha256(readFileSync(join(root, path)));
        } catch {
          continue;
        }
        out.set(path.normalize('NFC'), { type: 'file', hash, executable: (st.mode & 0o111) !== 0, mtimeMs: Math.trunc(st.mtimeMs) });
      }
    }
  };
  walk('');
  return out;
}

/**
 * Differences between a client tree and the server tree, one line each; empty when they mirror. mtimes
 * may differ by 1 ms (utimes takes float seconds).
 */
export function treeDifferences(cdir: string, sdir: string, ignore: (path: string) => boolean = () => false): string[] {
  const want = treeDigest(cdir);
  const have = treeDigest(sdir);
  const out: string[] = [];
  for (const path of new Set([...want.keys(), ...have.keys()])) {
    if (ignore(path)) continue;
    const a = want.get(path);
    const b = have.get(path);
    if (!a || !b) out.push(`${path}: ${a ? 'missing on the server' : 'extra on the server'}`);
    else if (a.type !== b.type || a.hash !== b.hash || a.executable !== b.executable) out.push(`${path}: differs`);
    else if (a.mtimeMs !== undefined && Math.abs(a.mtimeMs - b.mtimeMs!) > 1) out.push(`${path}: mtime ${a.mtimeMs} vs ${b.mtimeMs}`);
  }
  return out.sort();
}

/** Count of files in a digest. */
export function fileCount(digest: Map<string, TreeEntry>): number {
  let n = 0;
  for (const e of digest.values()) if (e.type === 'file') n++;
  return n;
}

/**
 * One hash for a whole folder, state folder included when `includeState`: names, kinds, contents, modes
 * and symlink targets. Equal hashes mean nothing was created, changed or removed.
 */
export function folderHash(root: string, options: { includeState?: boolean; skip?: (rel: string) => boolean } = {}): string {
  const h = createHash('sha256');
  const walk = (rel: string): void => {
    const abs = rel ? join(root, rel) : root;
    for (const name of readdirSync(abs).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      if (!options.includeState && path === '.deltabox') continue;
      if (options.skip?.(path)) continue;
      const st = lstatSync(join(root, path));
      if (st.isSymbolicLink()) h.update(`L ${path} -> ${readlinkSync(join(root, path))}\n`);
      else if (st.isDirectory()) {
        h.update(`D ${path} ${st.mode & 0o7777}\n`);
        walk(path);
      } else if (st.isFile()) h.update(`F ${path} ${st.mode & 0o7777} ${sha256(readFileSync(join(root, path)))}\n`);
      else h.update(`S ${path}\n`);
    }
  };
  walk('');
  return h.digest('hex');
}

/** Names of staged uploads and trash the server left in `sdir/.deltabox/tmp` (empty when clean). */
export function stagedFiles(sdir: string): string[] {
  const tmp = join(sdir, '.deltabox', 'tmp');
  return existsSync(tmp) ? readdirSync(tmp) : [];
}
