/**
 * Seeded inputs of the sync benchmark: big incompressible files and their edited versions (from
 * lib/seeded-data.ts), a log that only grows, and trees of text-like files with a seeded 1% edit. The same seed
 * gives the same bytes everywhere. It does not time anything.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeededByteStream, seededRandom } from '../lib/seeded-data.js';

/** Text-like bytes: lines drawn from a seeded pool of word lines (zlib-compressible like prose, ~60 B lines). */
export class TextStream {
  readonly #pool: Buffer[] = [];
  readonly #picks: SeededByteStream;
  #pending: Buffer = Buffer.alloc(0);

  constructor(seed: string) {
    const random = seededRandom(`text-pool:${seed}`);
    const letters = 'etaoinshrdlcumwfgypbvkjxqz';
    const words = Array.from({ length: 4096 }, () => {
      let w = '';
      const n = 2 + Math.floor(random() * random() * 10);
      for (let i = 0; i < n; i++) w += letters[Math.floor(random() * random() * letters.length)];
      return w;
    });
    for (let i = 0; i < 65536; i++) {
      const count = 4 + Math.floor(random() * 10);
      const parts: string[] = [];
      for (let k = 0; k < count; k++) parts.push(words[Math.floor(random() * words.length)]!);
      this.#pool.push(Buffer.from(`${parts.join(' ')}\n`));
    }
    this.#picks = new SeededByteStream(`text-picks:${seed}`);
  }

  /** The next `length` bytes of text. */
  next(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    let at = Math.min(this.#pending.length, length);
    this.#pending.copy(out, 0, 0, at);
    this.#pending = this.#pending.subarray(at);
    while (at < length) {
      const picks = this.#picks.next(8192);
      for (let i = 0; i < picks.length && at < length; i += 2) {
        const line = this.#pool[picks.readUInt16LE(i)]!;
        const n = Math.min(line.length, length - at);
        line.copy(out, at, 0, n);
        at += n;
        if (n < line.length) this.#pending = line.subarray(n);
      }
    }
    return out;
  }
}

/** Log lines: timestamp, level, worker, request id, duration, path. Only ever appended to. */
export function logLines(seed: string, firstLine: number, bytes: number): Buffer {
  const random = seededRandom(`log:${seed}:${firstLine}`);
  const levels = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'];
  const paths = ['/v1/files', '/v1/batch', '/v1/changes', '/v1/signatures', '/v1/health', '/v1/moves'];
  const parts: string[] = [];
  let total = 0;
  const base = Date.UTC(2026, 0, 1);
  for (let line = firstLine; total < bytes; line++) {
    const text =
      `${new Date(base + line * 37).toISOString()} ${levels[Math.floor(random() * levels.length)]} worker-${Math.floor(random() * 32)} ` +
      `req=${(line * 2654435761) >>> 0} took=${Math.floor(random() * random() * 2000)}ms path=${paths[Math.floor(random() * paths.length)]}/${Math.floor(random() * 1e6)}\n`;
    parts.push(text);
    total += text.length;
  }
  return Buffer.from(parts.join(''));
}

export interface TreeSpec {
  files: number;
  folders: number;
  /** Size of file i: minBytes + r² x spread (r uniform): mean ~ minBytes + spread/3. */
  spreadBytes: number;
  /** Smallest file; 512 B when absent. */
  minBytes?: number;
}

export function treePath(spec: TreeSpec, i: number): string {
  const folder = i % spec.folders;
  return `d${String(folder).padStart(4, '0')}/f${String(i).padStart(6, '0')}.txt`;
}

/** Writes the tree into every one of `roots` (identical bytes); returns its total size. */
export function writeTree(roots: readonly string[], spec: TreeSpec, seed: string): number {
  const random = seededRandom(`tree-sizes:${seed}`);
  const text = new TextStream(`tree:${seed}`);
  for (const root of roots) for (let f = 0; f < spec.folders; f++) mkdirSync(join(root, `d${String(f).padStart(4, '0')}`), { recursive: true });
  let total = 0;
  for (let i = 0; i < spec.files; i++) {
    const r = random();
    const size = (spec.minBytes ?? 512) + Math.floor(r * r * spec.spreadBytes);
    const bytes = text.next(size);
    for (const root of roots) writeFileSync(join(root, treePath(spec, i)), bytes);
    total += size;
  }
  return total;
}

/**
 * Edits 1% of the tree's files (the same files every round, new bytes each round): half get a ~60 B line
 * inserted, half ~60 B overwritten, at a seeded offset. Applies identical bytes to every root.
 * Returns the paths edited.
 */
export function editTree(roots: readonly string[], spec: TreeSpec, seed: string, round: number): string[] {
  const random = seededRandom(`tree-edit:${seed}:${round}`);
  const text = new TextStream(`tree-edit:${seed}:${round}`);
  const step = 100;
  const edited: string[] = [];
  for (let i = 37 % step; i < spec.files; i += step) {
    const path = treePath(spec, i);
    const old = readFileSync(join(roots[0]!, path));
    const at = Math.floor(random() * old.length);
    const fresh = text.next(60);
    const insert = (i / step) % 2 < 1;
    const next = insert
      ? Buffer.concat([old.subarray(0, at), fresh, old.subarray(at)])
      : Buffer.concat([old.subarray(0, at), fresh, old.subarray(Math.min(old.length, at + fresh.length))]);
    for (const root of roots) writeFileSync(join(root, path), next);
    edited.push(path);
  }
  return edited;
}
