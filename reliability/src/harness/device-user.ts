/**
 * A seeded user at one device's folder: creates, edits (the same file several times now and then), deletes,
 * renames, moves and deletes whole folders, and deletes conflict copies (never edits or renames them), always
 * from what is on disk now, because the scanner changes the folder too. Every content saved goes into the
 * shared SaveLedger; content the user itself overwrote or deleted is marked superseded (no system can be
 * asked to keep bytes their own user threw away before they were synced). It knows nothing of the scanner.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { SeededRandom } from './seeded-random.js';
import { editedContent } from './client-tree.js';
import { sha256 } from './tree-digest.js';

/** The marker of a conflict copy's name (docs/SYNC.md): `NAME (conflicted copy DEVICE DATE TIME).EXT`. */
export const CONFLICT_MARKER = '(conflicted copy ';

export function isConflictCopyName(path: string): boolean {
  return basename(path).includes(CONFLICT_MARKER);
}

export interface SavedContent {
  device: string;
  path: string;
  hash: string;
  /** The same device's user later overwrote or deleted these bytes. */
  superseded: boolean;
}

/** Every content any device's user saved, by hash. */
export class SaveLedger {
  readonly entries: SavedContent[] = [];
  readonly #byHash = new Map<string, SavedContent[]>();

  save(device: string, path: string, content: Buffer): void {
    const entry = { device, path, hash: sha256(content), superseded: false };
    this.entries.push(entry);
    let list = this.#byHash.get(entry.hash);
    if (!list) this.#byHash.set(entry.hash, (list = []));
    list.push(entry);
  }

  /** `device`'s user is about to overwrite or delete bytes with this hash. */
  supersede(device: string, hash: string): void {
    for (const e of this.#byHash.get(hash) ?? []) if (e.device === device) e.superseded = true;
  }

  /** Contents that must still exist somewhere (current file, conflict copy or server history). */
  owed(): SavedContent[] {
    return this.entries.filter((e) => !e.superseded);
  }

  has(hash: string): boolean {
    return this.#byHash.has(hash);
  }
}

export type UserAction = 'create' | 'edit' | 'delete' | 'rename' | 'folder-move' | 'folder-delete' | 'copy-delete' | 'skipped';

interface Listing {
  files: string[];
  copies: string[];
  dirs: string[];
}

export class DeviceUser {
  #serial = 0;

  constructor(
    readonly device: string,
    readonly root: string,
    readonly rng: SeededRandom,
    readonly ledger: SaveLedger,
  ) {}

  /** `count` new files in a few folders (every tenth 100-300 KB, so edits to it go as deltas). */
  populate(count: number): void {
    for (let i = 0; i < count; i++) this.#create(`d${i % 4}`);
  }

  /** Saves `content` at `path` (for set-ups: files two devices both hold before they join). */
  save(path: string, content: Buffer): void {
    this.#write(path, content);
  }

  /** One seeded action on what is on disk now; a race with the scanner (a file gone meanwhile) skips it. */
  act(): UserAction {
    const list = this.#list();
    const roll = this.rng.next();
    try {
      if (list.files.length === 0 || roll < 0.2) return this.#create(this.#folderForNew(list)), 'create';
      if (roll < 0.6) return this.#edit(this.rng.pick(list.files)), 'edit';
      if (roll < 0.7) return this.#delete(this.rng.pick(list.files)), 'delete';
      if (roll < 0.82) return this.#rename(this.rng.pick(list.files), list), 'rename';
      if (list.dirs.length > 0 && roll < 0.92) return this.#moveFolder(this.rng.pick(list.dirs), list), 'folder-move';
      if (list.dirs.length > 0 && roll < 0.94) return this.#deleteFolder(this.rng.pick(list.dirs)), 'folder-delete';
      if (list.copies.length > 0 && roll < 0.97) return this.#delete(this.rng.pick(list.copies)), 'copy-delete';
      return this.#edit(this.rng.pick(list.files)), 'edit';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') return 'skipped';
      throw err;
    }
  }

  #create(folder: string): void {
    const big = this.rng.chance(0.1);
    const path = `${folder}/${this.device}-${++this.#serial}${big ? '.bin' : '.txt'}`;
    this.#write(path, this.rng.bytes(big ? this.rng.int(100_000, 300_000) : this.rng.int(0, 20_000)));
  }

  #edit(path: string): void {
    const times = this.rng.chance(0.2) ? this.rng.int(2, 4) : 1;
    for (let k = 0; k < times; k++) {
      const old = readFileSync(join(this.root, path));
      // Superseded before the write: a write that fails half-way must not be reported as a loss.
      this.ledger.supersede(this.device, sha256(old));
      this.#write(path, editedContent(this.rng, old));
    }
  }

  #delete(path: string): void {
    this.ledger.supersede(this.device, sha256(readFileSync(join(this.root, path))));
    unlinkSync(join(this.root, path));
  }

  #rename(from: string, list: Listing): void {
    const dot = basename(from).lastIndexOf('.');
    const ext = dot > 0 ? basename(from).slice(dot) : '';
    const to = `${this.#folderForNew(list)}/${this.device}-r${++this.#serial}${ext}`;
    mkdirSync(dirname(join(this.root, to)), { recursive: true });
    renameSync(join(this.root, from), join(this.root, to));
  }

  /** Renames a folder in place, or moves it to the top or into another top folder (never into itself). */
  #moveFolder(from: string, list: Listing): void {
    const parents = ['', ...list.dirs.filter((d) => !d.includes('/') && d !== from && !d.startsWith(`${from}/`))];
    const parent = this.rng.chance(0.5) ? dirname(from).replace(/^\.$/, '') : this.rng.pick(parents);
    const to = `${parent ? `${parent}/` : ''}${this.device}-m${++this.#serial}`;
    renameSync(join(this.root, from), join(this.root, to));
  }

  #deleteFolder(dir: string): void {
    const inside = this.#list(dir);
    for (const f of [...inside.files, ...inside.copies]) {
      try {
        this.ledger.supersede(this.device, sha256(readFileSync(join(this.root, f))));
      } catch {
        // gone already
      }
    }
    rmSync(join(this.root, dir), { recursive: true });
  }

  #write(path: string, content: Buffer): void {
    mkdirSync(dirname(join(this.root, path)), { recursive: true });
    writeFileSync(join(this.root, path), content);
    this.ledger.save(this.device, path, content);
  }

  /** A folder for a new file: an existing one (at most two levels deep), or a new top or nested one. */
  #folderForNew(list: Listing): string {
    const shallow = list.dirs.filter((d) => d.split('/').length <= 2);
    if (shallow.length > 0 && this.rng.chance(0.8)) return this.rng.pick(shallow);
    return this.rng.chance(0.5) ? `d${this.rng.int(0, 5)}` : `d${this.rng.int(0, 3)}/sub${this.rng.int(0, 2)}`;
  }

  /** Files (conflict copies apart) and folders under `under`, from disk; `.deltabox` skipped. */
  #list(under = ''): Listing {
    const out: Listing = { files: [], copies: [], dirs: [] };
    const walk = (rel: string): void => {
      let names: string[];
      try {
        names = readdirSync(rel ? join(this.root, rel) : this.root);
      } catch {
        return;
      }
      for (const name of names.sort()) {
        const path = rel ? `${rel}/${name}` : name;
        if (path === '.deltabox') continue;
        let st;
        try {
          st = lstatSync(join(this.root, path));
        } catch {
          continue;
        }
        if (st.isDirectory()) {
          out.dirs.push(path);
          walk(path);
        } else if (st.isFile()) (isConflictCopyName(path) ? out.copies : out.files).push(path);
      }
    };
    walk(under);
    return out;
  }
}
