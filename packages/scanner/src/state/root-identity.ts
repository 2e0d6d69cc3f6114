/**
 * The client folder's identity, so a scanner notices when its folder is no longer the folder its state
 * belongs to (a drive unmounted under it, the folder moved away and an empty one made in its place): a
 * marker file `.deltabox/folder-id` holding a random id, and that id with the root's device and inode
 * (bigint stat) in the state database. Checked before every scan pass and before every delete; a mismatch
 * stops the scanner, never deletes.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScannerError } from '../errors.js';
import type { StateStore } from './state-store.js';

/** Name of the marker file in the state folder. */
export const FOLDER_ID_FILE = 'folder-id';
const ID_KEY = 'root.id';
const DEV_INO_KEY = 'root.devino';

function devIno(root: string): string | undefined {
  const st = statSync(root, { bigint: true, throwIfNoEntry: false });
  return st?.isDirectory() ? `${st.dev}:${st.ino}` : undefined;
}

function readMarker(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export class RootIdentity {
  readonly #root: string;
  readonly #marker: string;
  readonly #id: string;
  #devIno: string;

  /**
   * Records the identity on first use; on later starts checks that the marker in the folder is the one the
   * state recorded. A root whose device or inode changed while its marker and state came along (a folder
   * copied or restored with its `.deltabox`) is accepted and recorded anew: state and folder still match.
   * @throws ScannerError UNSAFE_FOLDER when the state has an id and the folder's marker is missing or another
   */
  constructor(root: string, stateDir: string, store: StateStore) {
    this.#root = root;
    this.#marker = join(stateDir, FOLDER_ID_FILE);
    const stored = store.getMeta(ID_KEY);
    const marker = readMarker(this.#marker);
    const now = devIno(root) ?? '';
    if (stored === undefined || stored === '') {
      this.#id = marker ?? randomUUID();
      if (marker === undefined) writeFileSync(this.#marker, `${this.#id}\n`, { mode: 0o600 });
      store.setMeta(ID_KEY, this.#id);
    } else {
      if (marker !== stored) throw this.#mismatch(marker === undefined ? 'its marker file .deltabox/folder-id is missing' : 'its marker file .deltabox/folder-id names another folder');
      this.#id = stored;
    }
    if (store.getMeta(DEV_INO_KEY) !== now) store.setMeta(DEV_INO_KEY, now);
    this.#devIno = now;
  }

  /**
   * Throws unless the folder at the root path is still the one this scanner started on (same device and
   * inode, same marker). Two small syscalls.
   * @throws ScannerError UNSAFE_FOLDER
   */
  verify(): void {
    const now = devIno(this.#root);
    if (now === undefined) throw this.#mismatch('it is gone (deleted, moved away or unmounted)');
    if (now !== this.#devIno) throw this.#mismatch('another folder is now at its path (moved, replaced or an unmounted drive)');
    const marker = readMarker(this.#marker);
    if (marker !== this.#id) throw this.#mismatch(marker === undefined ? 'its marker file .deltabox/folder-id is missing' : 'its marker file .deltabox/folder-id names another folder');
  }

  #mismatch(why: string): ScannerError {
    return new ScannerError(
      'UNSAFE_FOLDER',
      `stopping before any delete: the client folder ${this.#root} is not the folder this scanner's state belongs to: ${why}. ` +
        'Nothing was deleted on the server. If the drive is unmounted, mount it and start again; if this really is a new ' +
        'folder, remove its .deltabox folder and start again (the mass-delete guard still applies)',
    );
  }
}
