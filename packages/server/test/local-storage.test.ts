import t from 'tap';
import { mkdtempSync, realpathSync, rmSync, symlinkSync, mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '../src/index.js';
import { storageConformance } from './support/storage-conformance.js';

storageConformance(t, 'LocalStorage', async () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'dbx-storage-')));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(join(root, '.deltabox'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'secret');
  return {
    storage: new LocalStorage(root),
    plantSymlink: (path) => symlinkSync(outside, join(root, path)),
    cleanup: () => {
      t.same(readdirSync(outside), ['secret'], 'nothing was written outside the root');
      rmSync(base, { recursive: true, force: true });
    },
  };
}, { symlinks: true });
