/**
 * The basis cache in `.deltabox/cache/`: what the delta engine needs about versions the server holds, so a
 * modified file's delta is computed locally with no round trip. Content-addressed by SHA-256: a byte-exact
 * copy for files up to COPY_MAX_BYTES, the encoded signature for larger ones. Bounded: the total stays under
 * the budget by evicting the least recently used entries, and entries no remote version references are
 * dropped. It never talks to the server; a miss means "ask the server for its signature".
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CacheKind, CacheRow, StateStore } from '../state/state-store.js';

export type BasisLookup = { kind: 'copy'; filePath: string; size: number } | { kind: 'signature'; bytes: Uint8Array };

export class BasisCache {
  readonly #dir: string;
  readonly #store: StateStore;
  readonly #budgetBytes: number;
  readonly #now: () => number;
  readonly #rows = new Map<string, CacheRow>();
  #totalBytes = 0;

  constructor(dir: string, store: StateStore, budgetBytes: number, now: () => number = Date.now) {
    this.#dir = dir;
    this.#store = store;
    this.#budgetBytes = budgetBytes;
    this.#now = now;
    mkdirSync(dir, { recursive: true });
    // One listing, not a stat per row: a tree with thousands of cached copies paid ~10 us each at every start.
    const present = new Set(readdirSync(dir));
    for (const row of store.loadCache()) {
      if (present.has(this.#nameOf(row.hash, row.kind))) this.#remember(row);
      else store.deleteCache(row.hash, row.kind);
    }
  }

  get totalBytes(): number {
    return this.#totalBytes;
  }

  #key(hash: string, kind: CacheKind): string {
    return `${kind}:${hash}`;
  }

  #nameOf(hash: string, kind: CacheKind): string {
    return kind === 'copy' ? hash : `${hash}.sig`;
  }

  #fileOf(hash: string, kind: CacheKind): string {
    return join(this.#dir, this.#nameOf(hash, kind));
  }

  #remember(row: CacheRow): void {
    const key = this.#key(row.hash, row.kind);
    const old = this.#rows.get(key);
    if (old) this.#totalBytes -= old.bytes;
    this.#rows.set(key, row);
    this.#totalBytes += row.bytes;
  }

  #forget(row: CacheRow): void {
    this.#rows.delete(this.#key(row.hash, row.kind));
    this.#totalBytes -= row.bytes;
    this.#store.deleteCache(row.hash, row.kind);
    rmSync(this.#fileOf(row.hash, row.kind), { force: true });
  }

  /** The best basis known for `hash` (a byte-exact copy before a signature), marking it recently used. */
  lookup(hash: string): BasisLookup | undefined {
    for (const kind of ['copy', 'signature'] as const) {
      const row = this.#rows.get(this.#key(hash, kind));
      if (row === undefined) continue;
      const filePath = this.#fileOf(hash, kind);
      if (!existsSync(filePath)) {
        this.#forget(row);
        continue;
      }
      row.lastUsedMs = this.#now();
      this.#store.putCache(row);
      return kind === 'copy' ? { kind, filePath, size: row.bytes } : { kind, bytes: readFileSync(filePath) };
    }
    return undefined;
  }

  /** Takes ownership of `filePath` (a snapshot with content `hash`) as that version's byte-exact copy. */
  adoptCopy(hash: string, filePath: string, size: number): void {
    if (size > this.#budgetBytes) {
      rmSync(filePath, { force: true });
      return;
    }
    renameSync(filePath, this.#fileOf(hash, 'copy'));
    this.#put({ hash, kind: 'copy', bytes: size, lastUsedMs: this.#now() });
  }

  /** Stores `bytes` (a snapshot held in memory, content `hash`) as that version's byte-exact copy. */
  putCopy(hash: string, bytes: Uint8Array): void {
    if (bytes.length <= this.#budgetBytes) this.#write(hash, 'copy', bytes);
  }

  /** Stores the encoded signature of version `hash`. */
  putSignature(hash: string, bytes: Uint8Array): void {
    this.#write(hash, 'signature', bytes);
  }

  /** Writes an entry's file whole (a temp name, then a rename) and records it. */
  #write(hash: string, kind: CacheKind, bytes: Uint8Array): void {
    const tmp = `${this.#fileOf(hash, kind)}.part`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, this.#fileOf(hash, kind));
    this.#put({ hash, kind, bytes: bytes.length, lastUsedMs: this.#now() });
  }

  #put(row: CacheRow): void {
    this.#remember(row);
    this.#store.putCache(row);
    this.#evict();
  }

  /** Evicts least recently used entries until the total fits the budget. */
  #evict(): void {
    if (this.#totalBytes <= this.#budgetBytes) return;
    const byAge = [...this.#rows.values()].sort((a, b) => a.lastUsedMs - b.lastUsedMs);
    for (const row of byAge) {
      if (this.#totalBytes <= this.#budgetBytes) break;
      this.#forget(row);
    }
  }

  /** Drops every entry whose version no remote file holds any more. */
  retainOnly(referenced: ReadonlySet<string>): void {
    for (const row of [...this.#rows.values()]) if (!referenced.has(row.hash)) this.#forget(row);
    this.#store.retainSmallSignatures(referenced);
  }

  /**
   * Small files (INLINE_MAX_BYTES or less) keep no copy: a signature of 256-byte blocks (12 bytes each,
   * at most 3 KiB) goes into the state database instead of a cache file, so a first sync of many small files
   * creates no extra files. Outside the budget: it is a few percent of the files' size.
   */
  putSmallSignature(hash: string, signature: Uint8Array): void {
    this.#store.putSmallSignature(hash, signature);
  }

  smallSignature(hash: string): Uint8Array | undefined {
    return this.#store.getSmallSignature(hash);
  }
}
