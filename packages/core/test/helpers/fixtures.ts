/**
 * The golden vectors: how each fixture is made. test/fixtures/*.bin are these bytes, committed; the
 * golden test checks the encoders still produce them. Regenerate with `pnpm --filter @deltabox/core
 * fixtures` only as a deliberate format change.
 */
import { computeSignature, encodeSignature } from '../../src/index.js';
import { deltaOf, seededBytes } from './bytes.js';

const enc = new TextEncoder();

/** The worked example of docs/FORMAT.md: tiny enough to annotate by hand. */
export const tinyBasis = enc.encode('The quick brown fox jumps over the lazy dog. Five boxing wizards jump.');
export const tinyTarget = enc.encode('The quick brown cat jumps over the lazy dog. Five boxing wizards jump!');
export const TINY_BLOCK = 16;
export const FIXED_SEED = 0x0123456789abcdefn;

/** A larger pair exercising every op: 5000 bytes, an insert, an overwrite, a delete and a moved run. */
export function mediumPair(): { basis: Uint8Array; target: Uint8Array } {
  const basis = seededBytes(5000, 42);
  const target = new Uint8Array([
    ...basis.subarray(0, 1000),
    ...enc.encode('inserted text inserted text inserted text inserted text inserted text'),
    ...basis.subarray(1000, 2000),
    ...seededBytes(300, 7),
    ...basis.subarray(2300, 4000),
    ...basis.subarray(4200, 5000),
    ...basis.subarray(0, 256),
  ]);
  return { basis, target };
}

export async function buildFixtures(): Promise<Record<string, Uint8Array>> {
  const tinySig = await computeSignature([tinyBasis], { blockLength: TINY_BLOCK, seed: FIXED_SEED });
  const { basis, target } = mediumPair();
  const medSig = await computeSignature([basis], { blockLength: 256, seed: FIXED_SEED });
  return {
    'tiny-basis.bin': tinyBasis,
    'tiny-target.bin': tinyTarget,
    'tiny.sig': encodeSignature(tinySig),
    'tiny.delta': deltaOf(tinySig, tinyTarget, { formatVersion: 1 }).delta,
    'tiny-exact.delta': deltaOf(tinySig, tinyTarget, { basis: tinyBasis, formatVersion: 1 }).delta,
    'tiny-v2.delta': deltaOf(tinySig, tinyTarget).delta,
    'tiny-exact-v2.delta': deltaOf(tinySig, tinyTarget, { basis: tinyBasis }).delta,
    'medium-basis.bin': basis,
    'medium-target.bin': target,
    'medium.sig': encodeSignature(medSig),
    'medium.delta': deltaOf(medSig, target, { formatVersion: 1 }).delta,
    'medium-exact.delta': deltaOf(medSig, target, { basis, formatVersion: 1 }).delta,
    'medium-v2.delta': deltaOf(medSig, target).delta,
    'medium-exact-v2.delta': deltaOf(medSig, target, { basis }).delta,
  };
}
