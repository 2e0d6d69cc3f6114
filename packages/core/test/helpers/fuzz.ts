/**
 * Decoder fuzzing shared by the default test (a slice) and scripts/fuzz-decoders.ts (a million cases):
 * random and mutated fixtures must give a value or a DeltaError, never another error, a hang, or an
 * allocation past the limits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyDeltaToBuffer, decodeSignature, DeltaError } from '../../src/index.js';

const dir = join(import.meta.dirname, '..', 'fixtures');
const read = (name: string) => new Uint8Array(readFileSync(join(dir, name)));

export interface FuzzReport {
  cases: number;
  accepted: number;
  rejected: Record<string, number>;
}

/** A small seeded PRNG (mulberry32) so a failing case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One to four random mutations of `input` (truncate, bit flip, extreme byte, huge varint, insert, delete, repeat). */
export function mutate(input: Uint8Array, rnd: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  let b = input.slice();
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    switch (int(7)) {
      case 0: // truncate
        b = b.subarray(0, int(b.length + 1));
        break;
      case 1: // flip a bit
        if (b.length) b[int(b.length)] ^= 1 << int(8);
        break;
      case 2: // set a byte to an extreme
        if (b.length) b[int(b.length)] = [0, 0xff, 0x7f, 0x80][int(4)]!;
        break;
      case 3: {
        // splice in a huge varint
        const at = int(b.length + 1);
        const huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f].slice(0, 1 + int(8));
        b = Uint8Array.from([...b.subarray(0, at), ...huge, ...b.subarray(at)]);
        break;
      }
      case 4: {
        // insert random bytes
        const at = int(b.length + 1);
        const extra = Array.from({ length: 1 + int(16) }, () => int(256));
        b = Uint8Array.from([...b.subarray(0, at), ...extra, ...b.subarray(at)]);
        break;
      }
      case 5: {
        // delete a range
        const at = int(b.length + 1);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + 1 + int(16)))]);
        break;
      }
      default: // duplicate a range (repeats ops)
        if (b.length) {
          const at = int(b.length);
          const n = 1 + int(Math.min(64, b.length - at));
          b = Uint8Array.from([...b.subarray(0, at + n), ...b.subarray(at, at + n), ...b.subarray(at + n)]);
        }
    }
  }
  return b;
}

/** Runs `cases` fuzz cases from `seed`. @throws the first non-DeltaError, with the case seed in the message. */
export async function fuzzDecoders(cases: number, seed: number): Promise<FuzzReport> {
  const sigs = [read('tiny.sig'), read('medium.sig')];
  const deltas: Array<[Uint8Array, Uint8Array]> = [
    [read('tiny-basis.bin'), read('tiny.delta')],
    [read('tiny-basis.bin'), read('tiny-exact.delta')],
    [read('medium-basis.bin'), read('medium.delta')],
    [read('medium-basis.bin'), read('medium-exact.delta')],
    [read('tiny-basis.bin'), read('tiny-v2.delta')],
    [read('tiny-basis.bin'), read('tiny-exact-v2.delta')],
    [read('medium-basis.bin'), read('medium-v2.delta')],
    [read('medium-basis.bin'), read('medium-exact-v2.delta')],
  ];
  // A version-2 header for the tiny basis: random bytes after it reach the segment and stream parsers.
  const v2Header = read('tiny-v2.delta').subarray(0, 7);
  const report: FuzzReport = { cases: 0, accepted: 0, rejected: {} };
  // Small limits so a mutated length field that passes the limit still cannot allocate much.
  const limits = { maxLiteralChunk: 1 << 16, maxBlockCount: 1 << 16, maxTargetLength: 1 << 24, maxStreamLength: 1 << 16, maxSegmentSequences: 1 << 12 };
  for (let i = 0; i < cases; i++) {
    // zlib frees its native handles from the event loop; a tight loop of synchronous inflates that never
    // yields would pile them up (as a real server, which yields between requests, never does).
    if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
    const caseSeed = (seed + i) >>> 0;
    const rnd = prng(caseSeed);
    const kind = Math.floor(rnd() * 5);
    try {
      if (kind === 0 || kind === 4) {
        const random = Uint8Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256));
        if (kind === 4) await applyDeltaToBuffer(deltas[0]![0], Uint8Array.from([...v2Header, 0x10, ...random]), limits);
        else if (rnd() < 0.5) decodeSignature(random, limits);
        else await applyDeltaToBuffer(deltas[0]![0], random, limits);
      } else if (kind === 1) {
        decodeSignature(mutate(sigs[Math.floor(rnd() * sigs.length)]!, rnd), limits);
      } else {
        const [basis, delta] = deltas[Math.floor(rnd() * deltas.length)]!;
        await applyDeltaToBuffer(basis, mutate(delta, rnd), limits);
      }
      report.accepted++;
    } catch (err) {
      if (!(err instanceof DeltaError)) {
        throw new Error(`fuzz case seed ${caseSeed} threw a non-DeltaError: ${String(err)}`, { cause: err });
      }
      report.rejected[err.code] = (report.rejected[err.code] ?? 0) + 1;
    }
    report.cases++;
  }
  return report;
}
