/**
 * A seeded client folder and seeded mixed edits on it: rewrites, in-place edits of larger files, appends,
 * creates, deletes, renames, and the same file edited several times. Every content a path ever had is
 * recorded (hash), so a reader can check that the server only ever shows a version that really existed.
 * Writes are whole-buffer `writeFileSync`/`renameSync` calls; the tree is plain files in a few folders.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SeededRandom } from './seeded-random.js';
import { sha256 } from './tree-digest.js';

export interface EditCounts {
  modified: number;
  created: number;
  deleted: number;
  renamed: number;
  /** Whole folders renamed or deleted. */
  folders: number;
}

export class ClientTree {
  /** Path -> every content hash it has had (the history a reader may legitimately see). */
  readonly history = new Map<string, Set<string>>();
  /** Paths that exist now. */
  readonly live = new Set<string>();
  #serial = 0;

  constructor(
    readonly root: string,
    readonly rng: SeededRandom,
    /** Whole-folder renames and deletes among the mixed edits (off: files only). */
    readonly folderEdits = true,
  ) {
    mkdirSync(root, { recursive: true });
  }

  /** Creates `count` files: mostly small (batched), every tenth 64 KiB-1 MiB (sent as deltas later). */
  populate(count: number, folders = 6): void {
    for (let i = 0; i < count; i++) {
      const big = i % 10 === 9;
      const path = `folder-${i % folders}/file-${i}${big ? '.bin' : '.txt'}`;
      this.write(path, this.rng.bytes(big ? this.rng.int(70_000, 1_000_000) : this.rng.int(0, 20_000)));
    }
  }

  /** Records the version first (a reader may see it as soon as it is on disk), then writes it. */
  write(path: string, content: Buffer): void {
    this.#remember(path, content);
    const abs = join(this.root, path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
    this.live.add(path);
  }

  read(path: string): Buffer {
    return readFileSync(join(this.root, path));
  }

  #remember(path: string, content: Buffer): void {
    let versions = this.history.get(path);
    if (!versions) this.history.set(path, (versions = new Set()));
    versions.add(sha256(content));
  }

  /** Applies `count` seeded edits; returns what kinds were applied. */
  mixedEdits(count: number): EditCounts {
    const counts: EditCounts = { modified: 0, created: 0, deleted: 0, renamed: 0, folders: 0 };
    for (let i = 0; i < count; i++) {
      const paths = [...this.live];
      const roll = this.rng.next();
      if (this.folderEdits && paths.length > 20 && roll < 0.03) {
        this.#folderEdit(this.rng.pick(paths).split('/')[0]!);
        counts.folders++;
      } else if (paths.length === 0 || roll < 0.12) {
        this.write(`folder-${this.rng.int(0, 7)}/new-${++this.#serial}-${this.rng.seed % 1000}.txt`, this.rng.bytes(this.rng.int(1, 30_000)));
        counts.created++;
      } else if (roll < 0.22) {
        const path = this.rng.pick(paths);
        rmSync(join(this.root, path), { force: true });
        this.live.delete(path);
        counts.deleted++;
      } else if (roll < 0.32) {
        const from = this.rng.pick(paths);
        const to = `folder-${this.rng.int(0, 7)}/renamed-${++this.#serial}${from.endsWith('.bin') ? '.bin' : '.txt'}`;
        mkdirSync(dirname(join(this.root, to)), { recursive: true });
        renameSync(join(this.root, from), join(this.root, to));
        this.live.delete(from);
        this.live.add(to);
        for (const h of this.history.get(from) ?? []) this.#rememberHash(to, h);
        counts.renamed++;
      } else {
        const path = this.rng.pick(paths);
        const times = this.rng.chance(0.2) ? this.rng.int(2, 4) : 1; // the same file several times
        for (let k = 0; k < times; k++) this.write(path, this.#edited(this.read(path)));
        counts.modified++;
      }
    }
    return counts;
  }

  /** Renames a whole top folder (a new name), or deletes it. */
  #folderEdit(folder: string): void {
    const inside = [...this.live].filter((p) => p.startsWith(`${folder}/`));
    if (this.rng.chance(0.5)) {
      const to = `${folder.split('-moved-')[0]}-moved-${++this.#serial}`;
      renameSync(join(this.root, folder), join(this.root, to));
      for (const p of inside) {
        const moved = to + p.slice(folder.length);
        this.live.delete(p);
        this.live.add(moved);
        for (const h of this.history.get(p) ?? []) this.#rememberHash(moved, h);
      }
    } else {
      rmSync(join(this.root, folder), { recursive: true, force: true });
      for (const p of inside) this.live.delete(p);
    }
  }

  #rememberHash(path: string, hash: string): void {
    let versions = this.history.get(path);
    if (!versions) this.history.set(path, (versions = new Set()));
    versions.add(hash);
  }

  #edited(old: Buffer): Buffer {
    return editedContent(this.rng, old);
  }

  exists(path: string): boolean {
    return existsSync(join(this.root, path));
  }
}

/** An edit shaped like a real one, drawn from `rng`: overwrite a span, insert, append or truncate. */
export function editedContent(rng: SeededRandom, old: Buffer): Buffer {
  const kind = rng.int(0, 3);
  const at = rng.int(0, old.length);
  const patch = rng.bytes(rng.int(1, 2_000));
  if (kind === 0) return Buffer.concat([old.subarray(0, at), patch, old.subarray(Math.min(old.length, at + patch.length))]);
  if (kind === 1) return Buffer.concat([old.subarray(0, at), patch, old.subarray(at)]);
  if (kind === 2) return Buffer.concat([old, patch]);
  return old.length > 1 ? Buffer.concat([old.subarray(0, at), patch]) : patch;
}
