/**
 * A small seeded PRNG (mulberry32) so every scenario replays from its printed seed. Not for secrets;
 * Math.random is never used by the scenarios themselves.
 */

export class SeededRandom {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** `length` pseudo-random bytes (xorshift32 words seeded from this generator). */
  bytes(length: number): Buffer {
    const words = new Uint32Array(Math.ceil(length / 4));
    let x = (this.int(1, 0xffffffff) >>> 0) || 1;
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      words[i] = x;
    }
    return Buffer.from(words.buffer, 0, length);
  }

  /** A derived generator, so one part of a scenario can draw without shifting the others' sequences. */
  fork(label: number): SeededRandom {
    return new SeededRandom((this.seed ^ Math.imul(label + 1, 0x85ebca6b)) >>> 0);
  }
}

/** A seed from the command line or the clock (always printed by the caller). */
export function chooseSeed(explicit: number | undefined): number {
  return explicit ?? Date.now() % 2 ** 31;
}
