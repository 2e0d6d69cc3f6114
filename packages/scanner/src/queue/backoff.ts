/**
 * Exponential backoff with full jitter, capped (AWS architecture blog's "full jitter": spreads retries of
 * many clients and entries instead of having them hit the server in lock step). Pure: `random` is injected.
 */
import { BACKOFF_MAX_MS, BACKOFF_MIN_MS } from '../constants.js';

export interface BackoffBounds {
  minMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1 = first retry): uniform in [minMs, min(maxMs, minMs * 2^attempt)].
 * Never below `minMs` so a hot loop is impossible, never above `maxMs`.
 */
export function backoffDelayMs(
  attempt: number,
  random: () => number = Math.random,
  bounds: BackoffBounds = { minMs: BACKOFF_MIN_MS, maxMs: BACKOFF_MAX_MS },
): number {
  const exponent = Math.min(Math.max(attempt, 0), 30);
  const ceiling = Math.min(bounds.maxMs, bounds.minMs * 2 ** exponent);
  return Math.round(bounds.minMs + random() * (ceiling - bounds.minMs));
}
