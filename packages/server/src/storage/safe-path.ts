/**
 * Walks a relative path inside a root without ever following a symlink: every existing component is
 * lstat'ed, missing parents can be created one by one, and the final component's kind is reported.
 * A symlink planted anywhere inside the root therefore cannot redirect a read or a write outside it.
 */
import { mkdir, open } from 'node:fs/promises';
import { constants, lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { normalizeRelativePath, PathError } from '@deltabox/protocol';
import { StorageError, fromFsError } from './storage-error.js';

export type Kind = 'file' | 'dir' | 'missing';

/** Absolute location of a checked relative path. @throws PathError when `rel` breaks the path rule. */
export function absolutePath(root: string, rel: string): string {
  if (normalizeRelativePath(rel) !== rel) throw new PathError('path is not in NFC form', rel);
  return join(root, ...rel.split('/'));
}

/**
 * lstat on the calling thread, not the libuv pool: the kernel answers a folder entry's metadata from its
 * caches in microseconds, less than a round trip to the pool costs, and a write checks several (its folders,
 * its path). Missing is undefined without an exception.
 */
async function lstatOrUndefined(abs: string, rel: string): Promise<Stats | undefined> {
  try {
    return lstatSync(abs, { throwIfNoEntry: false });
  } catch (err) {
    throw fromFsError(err, rel);
  }
}

/** Kind of an lstat result; symlinks and special files are refused. */
export function kindOf(st: Stats | undefined, rel: string): Kind {
  if (!st) return 'missing';
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  throw new StorageError('SYMLINK', `'${rel}' is a symlink or special file; the server never follows one`);
}

/** lstat of the final component. */
export async function kindAt(root: string, rel: string): Promise<{ kind: Kind; stats?: Stats }> {
  const stats = await lstatOrUndefined(absolutePath(root, rel), rel);
  return stats ? { kind: kindOf(stats, rel), stats } : { kind: 'missing' };
}

/**
 * Checks the parent folders of `rel`. Returns false when one is missing (and `create` is false);
 * with `create`, makes the missing ones and returns their relative paths, outermost first. Folders in
 * `known` (storage.ts FolderMemo) are taken as checked; every folder found or made is added to it.
 * @throws StorageError SYMLINK, TYPE_CONFLICT (a file is where a folder is needed)
 */
export async function checkParents(root: string, rel: string, create: false, known?: Set<string>): Promise<boolean>;
export async function checkParents(root: string, rel: string, create: true, known?: Set<string>): Promise<string[]>;
export async function checkParents(root: string, rel: string, create: boolean, known?: Set<string>): Promise<boolean | string[]> {
  absolutePath(root, rel); // validates
  const segments = rel.split('/');
  const created: string[] = [];
  let parentRel = '';
  for (let i = 0; i < segments.length - 1; i++) {
    parentRel = i === 0 ? segments[0]! : `${parentRel}/${segments[i]!}`;
    if (known?.has(parentRel)) continue;
    const ok = await ensureDir(root, parentRel, create);
    if (ok === 'missing') return false;
    if (ok === 'created') created.push(parentRel);
    known?.add(parentRel);
  }
  return create ? created : true;
}

/** One folder component: exists, was created, or is missing (when not creating). */
export async function ensureDir(root: string, rel: string, create: boolean): Promise<'exists' | 'created' | 'missing'> {
  const abs = join(root, ...rel.split('/'));
  const kind = kindOf(await lstatOrUndefined(abs, rel), rel);
  if (kind === 'dir') return 'exists';
  if (kind === 'file') throw new StorageError('TYPE_CONFLICT', `'${rel}' is a file where a folder is needed`);
  if (!create) return 'missing';
  try {
    await mkdir(abs, { mode: 0o755 });
    return 'created';
  } catch (err) {
    // Lost a race with another mkdir: fine if what is there now is a real folder.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && kindOf(await lstatOrUndefined(abs, rel), rel) === 'dir') return 'exists';
    throw fromFsError(err, rel);
  }
}

/** fsync a folder so a rename or unlink inside it survives a crash. */
export async function syncDir(absDir: string): Promise<void> {
  const fh = await open(absDir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
