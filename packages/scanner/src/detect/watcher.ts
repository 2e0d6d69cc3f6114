/**
 * Turns file-system events into debounced "scan now" calls (fs.watch recursive; Linux needs Node 20+).
 * Events under the state folder are ignored. The periodic scan stays as the safety net: events can be
 * dropped or the watch can fail, and then nothing is lost, only later.
 */
import { watch, type FSWatcher } from 'node:fs';
import { STATE_DIR } from '@deltabox/protocol';
import { WATCH_DEBOUNCE_MS } from '../constants.js';

export interface FolderWatcher {
  close(): void;
}

/** Watches `root`; `onChange` runs once per burst of events, `debounceMs` after the last one. */
export function watchFolder(
  root: string,
  onChange: () => void,
  onError: (err: Error) => void,
  debounceMs = WATCH_DEBOUNCE_MS,
): FolderWatcher {
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  const fire = () => {
    timer = undefined;
    onChange();
  };
  try {
    watcher = watch(root, { recursive: true, persistent: false }, (_event, filename) => {
      const name = filename === null ? '' : String(filename);
      if (name === STATE_DIR || name.startsWith(`${STATE_DIR}/`)) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(fire, debounceMs);
    });
    watcher.on('error', onError);
  } catch (err) {
    onError(err as Error);
  }
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher?.close();
    },
  };
}
