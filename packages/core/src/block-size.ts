/** File size -> block length (the square-root rule) and checks of explicit block lengths. Pure. */
import { BLOCK_LENGTH_ROUNDING, MAX_AUTO_BLOCK_LENGTH, MIN_BLOCK_LENGTH } from './constants.js';

/** sqrt(12 / 20): see chooseBlockLength. */
const SQRT_SCALE = 0.75;

/**
 * The square-root rule, scaled. For d edits to an n-byte file with s signature bytes per block, the cost
 * n/L * s + d * L is lowest at L = sqrt(n * s / d): a constant times sqrt(n). rsync takes the constant as 1
 * with ~20-byte block entries; ours are 12 bytes (4 weak + 8 strong), so the constant is sqrt(12/20) ~ 3/4.
 * Rounded up to a multiple of 64 and clamped to [256, 128 KiB]: 1 MiB gets 768-byte blocks, 256 MiB gets
 * 12 KiB, 64 GiB and up get 128 KiB.
 */
export function chooseBlockLength(basisLength: number): number {
  const root = SQRT_SCALE * Math.sqrt(Math.max(0, basisLength));
  const rounded = Math.ceil(root / BLOCK_LENGTH_ROUNDING) * BLOCK_LENGTH_ROUNDING;
  return Math.min(MAX_AUTO_BLOCK_LENGTH, Math.max(MIN_BLOCK_LENGTH, rounded));
}
