/**
 * A per-path async mutex: writes to one path run one at a time, different paths in parallel. Several
 * paths are taken in sorted order so two multi-path operations cannot deadlock. In-process only.
 */

export class PathLock {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` while holding the locks of every path in `paths`. */
  async with<T>(paths: string[], fn: () => Promise<T>): Promise<T> {
    const keys = [...new Set(paths)].sort();
    const releases: Array<() => void> = [];
    try {
      for (const key of keys) releases.push(await this.#acquire(key));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  /** Number of paths with a holder or waiter (for tests: drops to 0 when idle). */
  get size(): number {
    return this.#tails.size;
  }

  async #acquire(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}
