/**
 * Small settings kept in the client state between runs (e.g. the device token `deltabox run` minted),
 * for callers that are not the scanner itself. Opens and closes the state database around each call.
 */
import { join, resolve } from 'node:path';
import { STATE_DIR } from '@deltabox/protocol';
import { StateStore } from './state-store.js';

/** Reads setting `key` from `CDIR/.deltabox/`; undefined when absent. */
export function readStoredSetting(cdir: string, key: string): string | undefined {
  const store = new StateStore(join(resolve(cdir), STATE_DIR));
  try {
    return store.getMeta(key);
  } finally {
    store.close();
  }
}

/** Writes setting `key` into `CDIR/.deltabox/` (creating the state folder). */
export function writeStoredSetting(cdir: string, key: string, value: string): void {
  const store = new StateStore(join(resolve(cdir), STATE_DIR));
  try {
    store.setMeta(key, value);
  } finally {
    store.close();
  }
}
