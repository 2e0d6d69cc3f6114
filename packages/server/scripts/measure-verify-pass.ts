/**
 * Measures the verification pass (src/reconcile.ts) on a tree of N small files (default 20,000): the first
 * index at startup, a pass with nothing changed, and a pass after 1% of the files were edited, deleted or
 * added by hand. Run: `node --import=tsx --conditions=deltabox-src scripts/measure-verify-pass.ts [N]`.
 * Not part of the tests; prints one line per figure.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStateDb } from '../src/state/database.js';
import { FileIndex } from '../src/state/file-index.js';
import { Journal } from '../src/state/journal.js';
import { LocalStorage } from '../src/storage/local-storage.js';
import { Mirror } from '../src/mirror.js';
import { reconcile } from '../src/reconcile.js';
import { resolveLimits } from '../src/limits.js';

const count = Number(process.argv[2] ?? 20_000);
const base = mkdtempSync(join(tmpdir(), 'dbx-verify-'));
try {
  for (let i = 0; i < count; i++) {
    const dir = join(base, `d${i % 100}`);
    if (i < 100) mkdirSync(dir);
    writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`.repeat(1 + (i % 20)));
  }
  const db = openStateDb(base);
  const mirror = new Mirror(new LocalStorage(base), db, new FileIndex(db), new Journal(db), resolveLimits());
  const time = async (label: string): Promise<void> => {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const r = await reconcile(mirror, base);
    const used = process.cpuUsage(cpu);
    const ms = performance.now() - started;
    console.log(`${label}: ${ms.toFixed(0)} ms wall, ${((used.user + used.system) / 1000).toFixed(0)} ms CPU, ${((ms * 1000) / count).toFixed(1)} µs/file; walked ${r.walked}, rechecked ${r.rechecked}, changed ${r.changed}`);
  };
  await time(`first index of ${count} files`);
  await time('pass, nothing changed');
  await time('pass, nothing changed (again)');
  const touched = Math.floor(count / 100);
  for (let i = 0; i < touched; i++) {
    const file = join(base, `d${i % 100}`, `f${i}.txt`);
    if (i % 3 === 0) writeFileSync(file, 'edited by hand\n');
    else if (i % 3 === 1) unlinkSync(file);
    else writeFileSync(join(base, `d${i % 100}`, `added${i}.txt`), 'added by hand\n');
  }
  await time(`pass after ${touched} hand edits, deletions and additions`);
  db.close();
} finally {
  rmSync(base, { recursive: true, force: true });
}
