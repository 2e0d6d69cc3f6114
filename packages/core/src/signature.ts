/**
 * Signatures of a basis: per block a weak rolling sum and a truncated strong hash. SignatureBuilder is a
 * streaming state machine (push chunks of any size, then finish); it holds at most one partial block.
 */
import { chooseBlockLength } from './block-size.js';
import { DEFAULT_DECODE_LIMITS, DEFAULT_STRONG_LENGTH, MAX_STRONG_LENGTH } from './constants.js';
import { UsageError } from './errors.js';
import { weakSum } from './rolling.js';
import { plainBytes, randomSeed, strongHash64, writeStrong } from './strong-hash.js';

/** The signature of one basis file (FORMAT.md §Signature). */
export interface Signature {
  /** Bytes per block; the last block may be shorter. */
  blockLength: number;
  /** Bytes of xxh64 kept per block, 1..8. */
  strongLength: number;
  /** Seed of the strong hash, random per signature unless given. */
  seed: bigint;
  /** Length of the basis in bytes. */
  basisLength: number;
  /** ceil(basisLength / blockLength). */
  blockCount: number;
  /** Weak sum of each block (unsigned 32-bit). */
  weakSums: Uint32Array;
  /** blockCount * strongLength bytes: the truncated strong hash of each block, little-endian. */
  strongHashes: Uint8Array;
}

export interface SignatureOptions {
  /** Expected basis length, used to pick the block length by the square-root rule when none is given. */
  basisLength?: number;
  /** Explicit block length in bytes (1 .. 1 MiB). */
  blockLength?: number;
  /** Strong hash bytes per block, 1..8 (default 8). */
  strongLength?: number;
  /** Strong hash seed; random by default (crafted collisions must then be guessed per signature). */
  seed?: bigint;
}

/** Validates options and resolves defaults. @throws UsageError (DELTA_USAGE) */
export function resolveSignatureOptions(options: SignatureOptions): { blockLength: number; strongLength: number; seed: bigint } {
  const blockLength = options.blockLength ?? chooseBlockLength(options.basisLength ?? 0);
  if (!Number.isInteger(blockLength) || blockLength < 1 || blockLength > DEFAULT_DECODE_LIMITS.maxBlockLength) {
    throw new UsageError(`block length must be an integer in 1..${DEFAULT_DECODE_LIMITS.maxBlockLength}, got ${blockLength}`);
  }
  const strongLength = options.strongLength ?? DEFAULT_STRONG_LENGTH;
  if (!Number.isInteger(strongLength) || strongLength < 1 || strongLength > MAX_STRONG_LENGTH) {
    throw new UsageError(`strong length must be an integer in 1..${MAX_STRONG_LENGTH}, got ${strongLength}`);
  }
  return { blockLength, strongLength, seed: BigInt.asUintN(64, options.seed ?? randomSeed()) };
}

/**
 * The growing block table of a signature being built: weak sums and truncated strong hashes, in order.
 * SignatureBuilder fills it from bytes; a DeltaEncoder keeping its target's signature (DeltaOptions.targetSignature)
 * also copies in entries of the basis signature. Not exported from the package.
 */
export class BlockTable {
  #weak: Uint32Array;
  #strong: Uint8Array;
  count = 0;

  constructor(
    expectedBlocks: number,
    readonly strongLength: number,
    readonly seed: bigint,
  ) {
    const cap = Math.max(16, Math.min(expectedBlocks, 1 << 20));
    this.#weak = new Uint32Array(cap);
    this.#strong = new Uint8Array(cap * strongLength);
  }

  #room(): void {
    if (this.count < this.#weak.length) return;
    const w = new Uint32Array(this.#weak.length * 2);
    w.set(this.#weak);
    this.#weak = w;
    const s = new Uint8Array(this.#strong.length * 2);
    s.set(this.#strong);
    this.#strong = s;
  }

  /** Adds a block from its bytes. */
  hash(bytes: Uint8Array, start: number, length: number): void {
    this.#room();
    this.#weak[this.count] = weakSum(bytes, start, length);
    writeStrong(strongHash64(bytes, start, length, this.seed), this.strongLength, this.#strong, this.count * this.strongLength);
    this.count++;
  }

  /** Adds block j of `sig` as it is (same strong length and seed). */
  entryOf(sig: Signature, j: number): void {
    this.#room();
    const sl = this.strongLength;
    this.#weak[this.count] = sig.weakSums[j]!;
    for (let k = 0, from = j * sl, to = this.count * sl; k < sl; k++) this.#strong[to + k] = sig.strongHashes[from + k]!;
    this.count++;
  }

  signature(blockLength: number, basisLength: number): Signature {
    return {
      blockLength,
      strongLength: this.strongLength,
      seed: this.seed,
      basisLength,
      blockCount: this.count,
      weakSums: this.#weak.slice(0, this.count),
      strongHashes: this.#strong.slice(0, this.count * this.strongLength),
    };
  }
}

/**
 * Builds a signature from basis chunks of any size. Memory: one partial block plus 4 + strongLength
 * bytes per block.
 */
export class SignatureBuilder {
  readonly blockLength: number;
  readonly strongLength: number;
  readonly seed: bigint;
  readonly #table: BlockTable;
  #length = 0;
  #partial: Uint8Array;
  #partialLength = 0;
  #finished = false;

  /** @throws UsageError (DELTA_USAGE) on an invalid block or strong length. */
  constructor(options: SignatureOptions = {}) {
    const o = resolveSignatureOptions(options);
    this.blockLength = o.blockLength;
    this.strongLength = o.strongLength;
    this.seed = o.seed;
    const expected = options.basisLength ? Math.ceil(options.basisLength / this.blockLength) : 16;
    this.#table = new BlockTable(expected, this.strongLength, this.seed);
    this.#partial = new Uint8Array(this.blockLength);
  }

  /** Feeds basis bytes. @throws UsageError after finish(). */
  push(input: Uint8Array): void {
    if (this.#finished) throw new UsageError('push() after finish()');
    const chunk = plainBytes(input);
    const L = this.blockLength;
    this.#length += chunk.length;
    let i = 0;
    if (this.#partialLength > 0) {
      const take = Math.min(L - this.#partialLength, chunk.length);
      this.#partial.set(chunk.subarray(0, take), this.#partialLength);
      this.#partialLength += take;
      i = take;
      if (this.#partialLength < L) return;
      this.#table.hash(this.#partial, 0, L);
      this.#partialLength = 0;
    }
    // Whole blocks straight from the chunk, no copy.
    while (chunk.length - i >= L) {
      this.#table.hash(chunk, i, L);
      i += L;
    }
    if (i < chunk.length) {
      this.#partial.set(chunk.subarray(i), 0);
      this.#partialLength = chunk.length - i;
    }
  }

  /** Completes the signature (the trailing short block, if any). @throws UsageError when called twice. */
  finish(): Signature {
    if (this.#finished) throw new UsageError('finish() called twice');
    this.#finished = true;
    if (this.#partialLength > 0) this.#table.hash(this.#partial, 0, this.#partialLength);
    return this.#table.signature(this.blockLength, this.#length);
  }
}

/** Signature of a whole stream. @throws UsageError on bad options. */
export async function computeSignature(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: SignatureOptions = {},
): Promise<Signature> {
  const builder = new SignatureBuilder(options);
  for await (const chunk of source) builder.push(chunk);
  return builder.finish();
}
