/**
 * Group commit for folder fsyncs: a sync starts on the next turn of the event loop, and every caller
 * until it starts shares it (a batch's files, settled together, cost one fsync per folder); callers that
 * ask while it runs share one follow-up sync, started after it ends. Each caller's rename happened before
 * its request, so the sync it awaits started after that rename and covers it.
 */
import { syncDir } from './safe-path.js';

interface DirState {
  /** The sync's outcome; it starts on the next turn of the event loop, so callers of this turn share it. */
  done: Promise<void>;
  started: boolean;
  next: Promise<void> | undefined;
}

const ignore = (): void => undefined;

export class DirSyncer {
  readonly #dirs = new Map<string, DirState>();
  readonly #syncDir: (absDir: string) => Promise<void>;

  /** `syncDir` does one folder fsync (default: safe-path.ts syncDir); tests wrap it to count them. */
  constructor(syncDirFn: (absDir: string) => Promise<void> = syncDir) {
    this.#syncDir = syncDirFn;
  }

  /** Resolves once a sync of `absDir` that started after this call has completed. */
  sync(absDir: string): Promise<void> {
    const state = this.#dirs.get(absDir);
    if (!state) return this.#run(absDir);
    if (!state.started) return state.done; // not begun yet: it covers this caller's rename too
    state.next ??= state.done.then(ignore, ignore).then(() => this.sync(absDir));
    return state.next;
  }

  #run(absDir: string): Promise<void> {
    const state: DirState = { done: Promise.resolve(), started: false, next: undefined };
    state.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      state.started = true;
      return this.#syncDir(absDir);
    });
    this.#dirs.set(absDir, state);
    // Registered before any follow-up, so it runs first: the follow-up then finds no state and starts afresh.
    void state.done.then(ignore, ignore).then(() => {
      if (this.#dirs.get(absDir) === state) this.#dirs.delete(absDir);
    });
    return state.done;
  }
}
