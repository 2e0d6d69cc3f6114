/**
 * The served folder's identity (GET /v1/folder): a random id made the first time a server uses the folder
 * and kept in `<sdir>/.deltabox/folder-id`, plus the device and inode of the root. Scanners use it to refuse
 * a client folder that is, contains or lies inside the server's folder. Does not check nesting itself.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { FolderIdentityResponse } from '@deltabox/protocol';
import { stateLayout } from './database.js';

/** File name of the folder id inside the state folder. */
export const FOLDER_ID_FILE = 'folder-id';
/** 16 random bytes as hex: unique across every folder ever served. */
const FOLDER_ID_PATTERN = /^[0-9a-f]{32}$/;

function readFolderId(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!FOLDER_ID_PATTERN.test(text)) throw new Error(`${path} does not hold a folder id (32 hex digits); remove it to make a new one`);
  return text;
}

/**
 * The folder id of `sdir` (its real path), created on first use: written to a temp file, fsynced, then
 * hard-linked into place, so a reader never sees half an id and two first users agree on one.
 * @throws Error when the id file exists but does not hold an id, or the state folder is not writable.
 */
export function ensureFolderId(sdir: string): string {
  const path = join(stateLayout(sdir).stateDir, FOLDER_ID_FILE);
  const existing = readFolderId(path);
  if (existing) return existing;
  const id = randomBytes(16).toString('hex');
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${id}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFolderId(path)!; // another process made it first: theirs wins
  } finally {
    unlinkSync(tmp);
  }
}

/** The folder part of GET /v1/folder: the id and the root's `st_dev`/`st_ino` (bigint stat, decimal). */
export function folderIdentity(root: string, folderId: string): Omit<FolderIdentityResponse, 'device' | 'readOnly'> {
  const st = statSync(root, { bigint: true });
  return { folderId, dev: st.dev.toString(), ino: st.ino.toString() };
}
