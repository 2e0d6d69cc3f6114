/** Test helpers: seeded bytes, chunking, concatenation, whole-buffer delta round trips. */
import { computeSignature, DeltaEncoder, applyDeltaToBuffer, type Signature, type DeltaStats } from '../../src/index.js';

/** xorshift32 PRNG: deterministic bytes from a seed. */
export function seededBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Text of seeded words (a small vocabulary, so it repeats like source code does): `length` bytes. */
export function wordsText(length: number, seed: number): Uint8Array {
  const words = ['const', 'return', 'function', 'value', 'index', 'the', 'delta', 'basis', '=', '(', ')', '{', '}', ';', '\n', 'export', 'type', 'number'];
  const noise = seededBytes(length, seed);
  const out = new Uint8Array(length);
  let at = 0;
  for (let i = 0; at < length; i++) {
    const w = words[noise[i % length]! % words.length]!;
    for (let k = 0; k < w.length && at < length; k++) out[at++] = w.charCodeAt(k);
    if (at < length) out[at++] = 32;
  }
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function* chunked(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  if (bytes.length === 0) return;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

export async function signatureOf(basis: Uint8Array, opts: { blockLength?: number; seed?: bigint; strongLength?: number } = {}): Promise<Signature> {
  return computeSignature([basis], { basisLength: basis.length, seed: opts.seed ?? 0x1234n, ...opts });
}

export function deltaOf(sig: Signature, target: Uint8Array, opts: { basis?: Uint8Array; chunk?: number; compress?: boolean; formatVersion?: 1 | 2; literalChunk?: number; fineIndexTrigger?: number; flushEvery?: number } = {}): { delta: Uint8Array; stats: DeltaStats; parts: Uint8Array[][] } {
  const basis = opts.basis;
  const enc = new DeltaEncoder(sig, {
    basis: basis ? { length: basis.length, read: (o, n) => basis.subarray(o, o + n) } : undefined,
    compress: opts.compress,
    formatVersion: opts.formatVersion,
    literalChunk: opts.literalChunk,
    fineIndexTrigger: opts.fineIndexTrigger,
    flushEvery: opts.flushEvery,
  });
  // What each push() (then finish()) returned, in order.
  const returned: Uint8Array[][] = [];
  for (const c of chunked(target, opts.chunk ?? 65536)) returned.push(enc.push(c));
  returned.push(enc.finish());
  return { delta: concat(returned.flat()), stats: enc.stats, parts: returned };
}

export { applyDeltaToBuffer };
