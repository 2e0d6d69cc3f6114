/**
 * Group commit for folder fsyncs: callers that ask for a folder to be synced while a sync of it is
 * running share one follow-up sync, started after the running one ends. Each caller's rename happened
 * before its request, so the sync it awaits started after that rename and covers it. Many small files
 * committed to one folder then cost far fewer folder fsyncs.
 */
import { syncDir } from './safe-path.js';

interface DirState {
  running: Promise<void>;
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
    state.next ??= state.running.then(ignore, ignore).then(() => this.#run(absDir));
    return state.next;
  }

  #run(absDir: string): Promise<void> {
    const running = this.#syncDir(absDir);
    const state: DirState = { running, next: undefined };
    this.#dirs.set(absDir, state);
    void running.then(ignore, ignore).then(() => {
      if (this.#dirs.get(absDir) === state && !state.next) this.#dirs.delete(absDir);
    });
    return running;
  }
}
