/** File size -> block length (the square-root rule) and checks of explicit block lengths. Pure. */
import { BLOCK_LENGTH_ROUNDING, MAX_AUTO_BLOCK_LENGTH, MIN_BLOCK_LENGTH } from './constants.js';

/**
 * rsync's square-root rule: block length ~ sqrt(basisLength), which balances signature size (n/L blocks)
 * against the literal cost of one edit (~L bytes). Rounded up to a multiple of 64 and clamped to
 * [256, 128 KiB]: a 1 MiB file gets 1024-byte blocks, 256 MiB gets 16 KiB, 16 GiB and up get 128 KiB.
 */
export function chooseBlockLength(basisLength: number): number {
  const root = Math.sqrt(Math.max(0, basisLength));
  const rounded = Math.ceil(root / BLOCK_LENGTH_ROUNDING) * BLOCK_LENGTH_ROUNDING;
  return Math.min(MAX_AUTO_BLOCK_LENGTH, Math.max(MIN_BLOCK_LENGTH, rounded));
}
