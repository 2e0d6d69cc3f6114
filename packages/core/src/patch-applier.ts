/**
 * PatchApplier: basis (random access) + delta (stream) -> target (stream). Checks the basis length against
 * the header, every copy range against the basis, and the result's length and SHA-256 against the trailer.
 * Memory is bounded by one literal op or one copy piece, whatever the file sizes.
 */
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from './constants.js';
import { BasisMismatchError, ChecksumMismatchError, UsageError } from './errors.js';
import { toHex } from './hex.js';
import { createSha256, type Sha256 } from './platform/sha256.js';
import { createWorkerSha256 } from './platform/sha256-worker.js';
import { DeltaDecoder, type DeltaOp } from './wire/delta-decoder.js';
import { copyBytes } from './platform/bytes.js';

/** Random access to the basis (e.g. positional reads of a file). May be sync or async. */
export interface BasisReader {
  /** Basis length in bytes. */
  readonly length: number;
  /** Exactly `length` bytes at `byteOffset`; the applier never reads past `this.length`. */
  read(byteOffset: number, length: number): Promise<Uint8Array> | Uint8Array;
  /**
   * Optional: reads the basis at `byteOffset` into `into`, returning how many bytes it read (fewer only at the
   * end of the basis). Lets the applier read copies straight into the hasher's memory (see
   * PatchOptions.transientPieces).
   */
  readInto?(byteOffset: number, into: Uint8Array): Promise<number> | number;
}

export interface PatchResult {
  targetLength: number;
  /** SHA-256 hex of the produced target, verified equal to the delta's. */
  targetHash: string;
}

/** How the applier runs. */
export interface PatchOptions {
  /**
   * Hash the result on a worker thread (platform/sha256-worker.ts), overlapped with the basis reads and the
   * caller's writes. Default false: on machines whose second core is shared with other work it was slower
   * than hashing in the caller's thread (see HASH_ON_WORKER_FROM).
   */
  hashOnWorker?: boolean;
  /**
   * The consumer is done with each yielded piece before it asks for the next one (it has written the piece
   * when it asks). With a basis that has readInto(), copies are then read into memory the applier reuses:
   * the worker's shared memory with hashOnWorker (one memory copy less per byte), else one buffer of its
   * own (no fresh buffer per piece: a 256 MiB patch allocated 64 buffers of 4 MiB, page faults and
   * garbage collection included). Default false.
   */
  transientPieces?: boolean;
  /**
   * The delta's source overwrites a chunk's memory once the applier asks it for the next chunk (e.g. it reads
   * a file into one reused buffer, which spares a fresh allocation and its page faults per chunk: most of the
   * system time of a literal-heavy patch). The applier then has the decoder copy what it keeps across chunks
   * (DeltaDecoderOptions.borrowedChunks); literal pieces are views of the chunk with transientPieces, copies
   * without. Default false: each chunk stays untouched once handed over.
   */
  reusedDeltaChunks?: boolean;
  /**
   * The consumer hashes the result itself, every piece before it asks for the next one (e.g. a staged file
   * that hashes what it writes): the applier then computes no SHA-256 of its own and, at the END op, checks
   * the delta's declared hash against the lowercase hex this returns, so the target is hashed once, not
   * twice. Without it (the default) the applier hashes the result. hashOnWorker is then ignored.
   */
  consumerSha256?: () => string;
}

/** The hasher of an applier whose consumer hashes the result (PatchOptions.consumerSha256). */
const NO_HASH: Sha256 = {
  update() {},
  digest: () => new Uint8Array(0),
};

/**
 * Copies are read from the basis in pieces of at most this size, adjacent copies merged first. In a bare
 * read, SHA-256, write loop over 256 MiB (page cache warm, one thread) 1 MiB pieces were the slowest size
 * tried (medians 1.2-1.5x those of 2 and 4 MiB; the machines are noisy, ±30%); a consumer that batches writes
 * to 1 MiB (the CLI, the benchmark) writes a 4 MiB piece straight through. The worker hasher lends at most
 * its slot size (1 MiB), whatever this is.
 */
const COPY_PIECE = 4 << 20;

/** A basis range still to be copied: adjacent copy ops grow it, anything else flushes it. */
interface CopyRun {
  offset: number;
  length: number;
}

export class PatchApplier {
  readonly #basis: BasisReader;
  readonly #limits: Partial<DecodeLimits>;
  #result: PatchResult | undefined;
  #used = false;
  readonly #hashOnWorker: boolean;
  readonly #transientPieces: boolean;
  readonly #reusedDeltaChunks: boolean;
  readonly #consumerSha256: (() => string) | undefined;
  /** Copies are read into this with transientPieces and a basis that has readInto() (no worker). */
  #copyBuffer: Uint8Array | undefined;

  constructor(basis: BasisReader, limits: Partial<DecodeLimits> = {}, options: PatchOptions = {}) {
    this.#basis = basis;
    this.#limits = { ...DEFAULT_DECODE_LIMITS, ...limits };
    this.#hashOnWorker = options.hashOnWorker ?? false;
    this.#transientPieces = options.transientPieces ?? false;
    this.#reusedDeltaChunks = options.reusedDeltaChunks ?? false;
    this.#consumerSha256 = options.consumerSha256;
  }

  /** Set once apply() has completed and the result verified. */
  get result(): PatchResult | undefined {
    return this.#result;
  }

  /**
   * Streams the target. When it throws (FormatError, BasisMismatchError, ChecksumMismatchError), whatever
   * was already yielded must be discarded: write to a temp file and rename only on success.
   * @throws UsageError when called twice.
   */
  async *apply(delta: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array, PatchResult> {
    if (this.#used) throw new UsageError('apply() may be called once per PatchApplier');
    this.#used = true;
    const sha = this.#consumerSha256 ? NO_HASH : this.#hashOnWorker ? createWorkerSha256() : createSha256();
    try {
      return yield* this.#applyWith(delta, sha);
    } finally {
      sha.close?.();
    }
  }

  async *#applyWith(delta: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, sha: Sha256): AsyncGenerator<Uint8Array, PatchResult> {
    // Reused chunks: literal ops are views of the chunk, so a consumer that may keep a piece gets a copy.
    const decoder = new DeltaDecoder(this.#limits, { borrowedChunks: this.#reusedDeltaChunks });
    const copyLiterals = this.#reusedDeltaChunks && !this.#transientPieces;
    let produced = 0;
    let headerChecked = false;
    // Copies waiting to be read: adjacent ones (even across chunks) become one run of large reads.
    let run: CopyRun | undefined;
    for await (const chunk of delta) {
      const ops = decoder.push(chunk);
      if (!headerChecked && decoder.header) {
        headerChecked = true;
        if (decoder.header.basisLength !== this.#basis.length) {
          throw new BasisMismatchError(`delta was made against a ${decoder.header.basisLength}-byte basis, this basis has ${this.#basis.length} bytes`);
        }
      }
      for (const op of ops) {
        if (op.type === 'copy') {
          this.#checkCopy(op.offset, op.length);
          if (run && run.offset + run.length === op.offset) {
            run.length += op.length;
            continue;
          }
        }
        if (run) {
          for await (const piece of this.#copy(run, sha)) {
            produced += piece.length;
            yield piece;
          }
        }
        run = op.type === 'copy' ? { offset: op.offset, length: op.length } : undefined;
        if (op.type === 'literal') {
          sha.update(op.bytes);
          produced += op.bytes.length;
          yield copyLiterals ? copyBytes(op.bytes) : op.bytes;
        }
        if (op.type === 'end') this.#result = verify(op, produced, this.#consumerSha256 ? this.#consumerSha256() : toHex(sha.digest()));
      }
    }
    decoder.finish();
    return this.#result!;
  }

  #checkCopy(offset: number, length: number): void {
    if (offset + length > this.#basis.length) {
      throw new BasisMismatchError(`copy of ${length} bytes at basis offset ${offset} runs past the ${this.#basis.length}-byte basis`);
    }
  }

  /** The pieces of one run of copies, each already fed to `sha`. */
  async *#copy(run: CopyRun, sha: Sha256): AsyncGenerator<Uint8Array> {
    const readInto = this.#transientPieces ? this.#basis.readInto?.bind(this.#basis) : undefined;
    const lend = readInto && sha.lend && sha.hashLent ? sha : undefined;
    for (let at = run.offset, end = run.offset + run.length; at < end; ) {
      let piece: Uint8Array;
      let n: number;
      if (lend) {
        const into = lend.lend!(Math.min(COPY_PIECE, end - at));
        n = into.length;
        const got = await readInto!(at, into);
        piece = got === n ? into : into.subarray(0, got);
        lend.hashLent!(piece.length);
      } else if (readInto) {
        n = Math.min(COPY_PIECE, end - at);
        this.#copyBuffer ??= new Uint8Array(Math.min(COPY_PIECE, this.#basis.length));
        const into = this.#copyBuffer.subarray(0, n);
        const got = await readInto(at, into);
        piece = got === n ? into : into.subarray(0, got);
        sha.update(piece);
      } else {
        n = Math.min(COPY_PIECE, end - at);
        piece = await this.#basis.read(at, n);
        sha.update(piece);
      }
      if (piece.length !== n) throw new BasisMismatchError(`basis read returned ${piece.length} bytes at offset ${at}, expected ${n}`);
      at += n;
      yield piece;
    }
  }
}

/** The result, once the END op's length and SHA-256 match what was produced (`got`: its hex). @throws ChecksumMismatchError */
function verify(end: Extract<DeltaOp, { type: 'end' }>, produced: number, got: string): PatchResult {
  if (produced !== end.targetLength) throw new ChecksumMismatchError(`produced ${produced} bytes, delta declares ${end.targetLength}`);
  const expected = toHex(end.sha256);
  if (expected !== got) throw new ChecksumMismatchError(`result SHA-256 ${got} differs from the delta's ${expected}`);
  return { targetLength: produced, targetHash: got };
}

/** Applies a delta held in memory to a basis held in memory (tests and small files). @throws DeltaError */
export async function applyDeltaToBuffer(basis: Uint8Array, delta: Uint8Array, limits?: Partial<DecodeLimits>): Promise<Uint8Array> {
  const applier = new PatchApplier({ length: basis.length, read: (o, n) => basis.subarray(o, o + n) }, limits);
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const p of applier.apply([delta])) {
    parts.push(p);
    total += p.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
