/**
 * FineIndex: a sparse hash of the whole basis for the gap matcher, for dense edits (a database whose pages all
 * changed a little, rows moved between pages). Block matching cannot see a match shorter than a block and the
 * gap matcher's local window cannot see one that moved far; this index finds any match of at least
 * KEY + stride - 1 bytes anywhere in the basis: every stride-th 8-byte key of the basis is hashed into a
 * one-slot table, and the gap matcher looks up the key at each gap position. It holds the basis in memory
 * (copied in 1 MiB reads), so it is built only when the gaps are large (the encoder's trigger) and the basis
 * is at most FINE_MAX_BASIS bytes: memory stays within the basis size plus the table (at most 16 MiB).
 * FineProbe, a far sparser sample that holds no basis bytes, tells first whether the gaps have far matches at all.
 */
import type { SyncBasisReader } from './delta-encoder.js';

/** Bytes hashed per key. */
export const FINE_KEY = 8;
/** Largest basis the index is built for (bytes): past it the gap matcher keeps to its local windows. */
export const FINE_MAX_BASIS = 256 * 1024 * 1024;
/** Smallest stride between indexed keys; larger bases use a larger one, so the table stays at most 2^22 slots. */
const MIN_STRIDE = 16;
const MAX_TABLE_LOG = 22;
const READ_CHUNK = 1024 * 1024;
const MUL_LO = 0x9e3779b1 | 0;
const MUL_HI = 0x85ebca77 | 0;
const MUL_CHECK = 0xc2b2ae3d | 0;
/** The probe samples one key per this many basis bytes (a divisor of READ_CHUNK, so no key straddles a read). */
const PROBE_STRIDE = 1024;

/** The table slot of the 8-byte key at a[i], whose first four bytes (little-endian) are `lo`. */
function slotOf(lo: number, a: Uint8Array, i: number, shift: number): number {
  const hi = (a[i + 4]! | (a[i + 5]! << 8) | (a[i + 6]! << 16) | (a[i + 7]! << 24)) | 0;
  return (Math.imul(lo, MUL_LO) ^ Math.imul(hi ^ (lo >>> 15), MUL_HI)) >>> shift;
}

export class FineIndex {
  /** The whole basis. */
  readonly bytes: Uint8Array;
  /** Distance between indexed keys. */
  readonly stride: number;
  readonly #table: Int32Array;
  readonly #shift: number;

  /** Reads the whole basis (callers check FINE_MAX_BASIS) and indexes every stride-th key. */
  constructor(basis: SyncBasisReader) {
    const n = basis.length;
    const bytes = new Uint8Array(n);
    for (let at = 0; at < n; at += READ_CHUNK) bytes.set(basis.read(at, Math.min(READ_CHUNK, n - at)), at);
    this.bytes = bytes;
    let log = 10;
    while (log < MAX_TABLE_LOG && 1 << log < n / MIN_STRIDE) log++;
    this.stride = Math.max(MIN_STRIDE, Math.ceil(n / (1 << log)));
    this.#shift = 32 - log;
    const table = new Int32Array(1 << log);
    // Later keys overwrite earlier ones: a repeated key (zeros, padding) keeps one slot, not a chain.
    for (let p = 0; p + FINE_KEY <= n; p += this.stride) table[slotOf(bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24), bytes, p, this.#shift)] = p + 1;
    this.#table = table;
  }

  /**
   * A basis offset whose 8-byte key equals t[i..i+8) (the caller has 8 bytes there; `lo` is the first four,
   * little-endian, as an int32), or -1. The key at the offset is verified: a returned offset matches at least
   * FINE_KEY bytes.
   */
  lookup(lo: number, t: Uint8Array, i: number): number {
    const b = this.entry(lo, t, i);
    return b >= 0 && this.verify(b, t, i) ? b : -1;
  }

  /** lookup() in two steps: the indexed offset for t[i]'s key, unverified (-1: none) ... */
  entry(lo: number, t: Uint8Array, i: number): number {
    return this.#table[slotOf(lo, t, i, this.#shift)]! - 1;
  }

  /** ... and whether the 8-byte key at offset b equals t[i..i+8). */
  verify(b: number, t: Uint8Array, i: number): boolean {
    const bytes = this.bytes;
    for (let k = 0; k < FINE_KEY; k++) if (bytes[b + k] !== t[i + k]) return false;
    return true;
  }
}

/**
 * FineProbe: every PROBE_STRIDE-th 8-byte key of the basis, as a slot and a 32-bit check, with no basis bytes
 * kept (one read pass, a table of at most 1 MiB). The gap matcher asks it at the positions it examines while
 * the gaps are poor in local matches: a hit means bytes of the gap occur somewhere in the basis (a file
 * reshuffled in pieces shorter than two blocks), so the fine index is worth building; new data never hits. A
 * check collision (2^-32 per lookup) only builds the index early.
 */
export class FineProbe {
  readonly #table: Int32Array;
  readonly #shift: number;

  constructor(basis: SyncBasisReader) {
    const n = basis.length;
    let log = 10;
    // Four slots per key up to 1 MiB of table (past 64 MiB of basis, more keys share slots: a probe may miss some).
    while (log < 18 && 1 << log < (4 * n) / PROBE_STRIDE) log++;
    this.#shift = 32 - log;
    const table = new Int32Array(1 << log);
    for (let at = 0; at < n; at += READ_CHUNK) {
      const chunk = basis.read(at, Math.min(READ_CHUNK, n - at));
      for (let p = 0; p + FINE_KEY <= chunk.length; p += PROBE_STRIDE) {
        const lo = (chunk[p]! | (chunk[p + 1]! << 8) | (chunk[p + 2]! << 16) | (chunk[p + 3]! << 24)) | 0;
        table[slotOf(lo, chunk, p, this.#shift)] = checkOf(lo, chunk, p);
      }
    }
    this.#table = table;
  }

  /** Sampled keys among t[from..to)'s 8-byte keys, looked up at every position (a few ns each). */
  count(t: Uint8Array, from: number, to: number): number {
    let hits = 0;
    for (let i = from; i + FINE_KEY <= to; i++) {
      if (this.has((t[i]! | (t[i + 1]! << 8) | (t[i + 2]! << 16) | (t[i + 3]! << 24)) | 0, t, i)) hits++;
    }
    return hits;
  }

  /** Whether the 8-byte key at t[i] (first four bytes `lo`, as in FineIndex.lookup) is, very likely, a sampled one. */
  has(lo: number, t: Uint8Array, i: number): boolean {
    return this.#table[slotOf(lo, t, i, this.#shift)] === checkOf(lo, t, i);
  }
}

/** A second hash of the 8-byte key at a[i], never 0 (an empty slot). */
function checkOf(lo: number, a: Uint8Array, i: number): number {
  const hi = (a[i + 4]! | (a[i + 5]! << 8) | (a[i + 6]! << 16) | (a[i + 7]! << 24)) | 0;
  return (Math.imul(hi, MUL_CHECK) ^ Math.imul(lo ^ (hi >>> 13), MUL_LO)) | 1;
}
