/**
 * Per-path async locks: writes to one path run one at a time, different paths in parallel. A caller may
 * also hold paths shared (its ancestor folders): any number of shared holders run together, while an
 * exclusive holder of that path (a folder removal) waits for them and they for it. All keys are taken in
 * sorted order, so two multi-path operations cannot deadlock. FIFO per key, so no writer starves.
 * In-process only.
 */

type Mode = 'shared' | 'exclusive';

interface KeyState {
  shared: number;
  exclusive: boolean;
  waiters: Array<{ mode: Mode; grant: () => void }>;
}

export class PathLock {
  readonly #keys = new Map<string, KeyState>();

  /**
   * Runs `fn` holding `paths` exclusively and `options.shared` shared (a path in both is held exclusively).
   */
  async with<T>(paths: string[], fn: () => Promise<T>, options: { shared?: string[] } = {}): Promise<T> {
    const modes = new Map<string, Mode>();
    for (const key of options.shared ?? []) modes.set(key, 'shared');
    for (const key of paths) modes.set(key, 'exclusive');
    const keys = [...modes.keys()].sort();
    const releases: Array<() => void> = [];
    try {
      for (const key of keys) releases.push(await this.#acquire(key, modes.get(key)!));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  /** Number of paths with a holder or waiter (for tests: drops to 0 when idle). */
  get size(): number {
    return this.#keys.size;
  }

  #acquire(key: string, mode: Mode): Promise<() => void> {
    let state = this.#keys.get(key);
    if (!state) {
      state = { shared: 0, exclusive: false, waiters: [] };
      this.#keys.set(key, state);
    }
    const s = state;
    const release = () => {
      if (mode === 'shared') s.shared--;
      else s.exclusive = false;
      this.#wake(key, s);
    };
    return new Promise((resolve) => {
      s.waiters.push({ mode, grant: () => resolve(release) });
      this.#wake(key, s);
    });
  }

  /** Grants waiters in order while they are compatible with the holders. */
  #wake(key: string, s: KeyState): void {
    while (s.waiters.length > 0 && !s.exclusive) {
      const next = s.waiters[0]!;
      if (next.mode === 'exclusive' && s.shared > 0) break;
      s.waiters.shift();
      if (next.mode === 'shared') s.shared++;
      else s.exclusive = true;
      next.grant();
    }
    if (s.shared === 0 && !s.exclusive && s.waiters.length === 0) this.#keys.delete(key);
  }
}

/** The ancestor folders of a relative path, outermost first: 'a/b/c' -> ['a', 'a/b']. */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}
