/**
 * What `deltabox signature | delta | patch` do, once their arguments are parsed: the core engine on files, in
 * rdiff's argument order. `-` means stdin/stdout; outputs are replaced atomically and removed when the command
 * fails. No commander here: the fast path (core-commands/run.ts) and commands/delta-tools.ts both call these.
 */
import {
  computeSignature, decodeSignature, DeltaEncoder, encodeSignature, PatchApplier, DEFAULT_DECODE_LIMITS, HASH_ON_WORKER_FROM,
} from '@deltabox/core';
import { openAtomicOutput, type AtomicOutput } from '../io/atomic-output.js';
import { foreignFormatOf, HeadRecorder } from '../io/foreign-format.js';
import { inputSize, inputStream, openFileBasis, readSmallInput } from '../io/inputs.js';
import { CliError, EXIT } from '../exit-codes.js';

/** Block length used when the basis comes from stdin and its size (for the square-root rule) is unknown. */
const STDIN_BLOCK_LENGTH = 2048;

/** Largest --block-size the decoders accept. */
export const MAX_BLOCK_LENGTH = DEFAULT_DECODE_LIMITS.maxBlockLength;

/**
 * A byte count flag: decimal digits only (no `1e3`, `0x100`, `1.5`, signs or spaces), from `min` to `max`.
 * Anything else is a usage error (exit 2), whatever the reason.
 */
export function byteCount(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = /^[0-9]{1,16}$/.test(v) ? Number(v) : NaN;
    if (!(n >= min && n <= max)) throw new CliError(`${name} must be a whole number from ${min} to ${max}, got '${v}'`, EXIT.usage);
    return n;
  };
}

/** The parsers of the byte count flags, shared by commander and the fast path so both accept the same. */
export const parseBlockSize = byteCount('--block-size', 1, MAX_BLOCK_LENGTH);
export const parseSumSize = byteCount('--sum-size', 1, 8);

/** A bad-magic error about a file of another tool, said plainly; any other error unchanged. */
function namingForeignFormat(err: unknown, path: string, head: Uint8Array, expected: string): unknown {
  if ((err as { code?: unknown })?.code !== 'FORMAT_BAD_MAGIC') return err;
  const what = foreignFormatOf(head);
  if (!what) return err;
  return new CliError(`${path === '-' ? 'stdin' : path} is ${what}, not ${expected}: deltabox reads only its own format`, EXIT.badInput, { cause: err });
}

/** Runs `produce` into OUT; on any failure the partial output is removed and the error rethrown. */
async function withOutput(path: string, produce: (out: AtomicOutput) => Promise<void>): Promise<void> {
  const out = await openAtomicOutput(path);
  try {
    await produce(out);
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
}

export interface SignatureFlags {
  blockSize?: number;
  sumSize?: number;
}

/** `deltabox signature BASIS SIG`. */
export async function writeSignature(basis: string, sig: string, opts: SignatureFlags): Promise<void> {
  const size = inputSize(basis, 'BASIS');
  const signature = await computeSignature(inputStream(basis), {
    basisLength: size,
    blockLength: opts.blockSize ?? (size === undefined ? STDIN_BLOCK_LENGTH : undefined),
    strongLength: opts.sumSize,
  });
  await withOutput(sig, (out) => out.write(encodeSignature(signature)));
}

export interface DeltaFlags {
  basis?: string;
  compress: boolean;
}

/** `deltabox delta SIG NEW DELTA`. */
export async function writeDelta(sigPath: string, newPath: string, deltaPath: string, opts: DeltaFlags): Promise<void> {
  if (sigPath === '-' && newPath === '-') throw new CliError('SIG and NEW cannot both be stdin', EXIT.usage);
  // A signature is at most 12 bytes a block for 2^22 blocks, plus its header.
  const sigBytes = await readSmallInput(sigPath, DEFAULT_DECODE_LIMITS.maxBlockCount * 12 + 64);
  let signature;
  try {
    signature = decodeSignature(sigBytes);
  } catch (err) {
    throw namingForeignFormat(err, sigPath, sigBytes.subarray(0, 4), 'a deltabox signature');
  }
  inputSize(newPath, 'NEW');
  // The encoder uses each basis read before the next one (it copies what it keeps): one reused buffer.
  const basis = opts.basis ? openFileBasis(opts.basis, '--basis', { reuseBuffer: true }) : undefined;
  try {
    if (basis && basis.length !== signature.basisLength) {
      throw new CliError(`--basis is ${basis.length} bytes but the signature describes ${signature.basisLength} bytes`, EXIT.badInput);
    }
    const encoder = new DeltaEncoder(signature, { basis, compress: opts.compress });
    await withOutput(deltaPath, async (out) => {
      // The encoder copies what it keeps of a chunk (and hashes it) before push returns: one reused read buffer.
      for await (const chunk of inputStream(newPath, { reuseBuffer: true })) for (const piece of encoder.push(chunk)) await out.write(piece);
      for (const piece of encoder.finish()) await out.write(piece);
    });
  } finally {
    basis?.close();
  }
}

/** `deltabox patch BASIS DELTA OUT`: OUT appears only if the result verifies. */
export async function writePatched(basisPath: string, deltaPath: string, outPath: string): Promise<void> {
  inputSize(deltaPath, 'DELTA');
  // A file output is written before the next piece is read, so copies can share one read buffer. stdout
  // may still hold a piece after write() resolves (pipes are asynchronous on some platforms, TTYs on
  // Linux too), so it gets fresh buffers.
  const basis = openFileBasis(basisPath, 'BASIS', { reuseBuffer: outPath !== '-' });
  try {
    // SHA-256 runs on a worker thread from HASH_ON_WORKER_FROM (core's measured policy: at present never). A
    // file output is written before the next piece is asked for (transientPieces): with the worker, copies are
    // read straight into its memory and written from there.
    // A delta file is read into one reused buffer (reusedDeltaChunks: the decoder copies what it keeps, and
    // literal pieces are copied for stdout, which may still hold them).
    const reuseDelta = deltaPath !== '-';
    const applier = new PatchApplier(basis, {}, { hashOnWorker: basis.length >= HASH_ON_WORKER_FROM, transientPieces: outPath !== '-', reusedDeltaChunks: reuseDelta });
    const head = new HeadRecorder();
    await withOutput(outPath, async (out) => {
      for await (const piece of applier.apply(head.tap(inputStream(deltaPath, { reuseBuffer: reuseDelta })))) await out.write(piece);
    }).catch((err: unknown) => {
      throw namingForeignFormat(err, deltaPath, head.head, 'a deltabox delta');
    });
  } finally {
    basis.close();
  }
}
