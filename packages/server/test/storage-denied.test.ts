/** A served folder the server may not write answers a specific, documented code, not 500 INTERNAL. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from './support/harness.js';

/** Makes `dir` unwritable even for root (chattr +i) or by mode for others; returns the undo, or undefined. */
function lockFolder(dir: string): (() => void) | undefined {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    return () => chmodSync(dir, 0o755);
  }
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    return () => execFileSync('chattr', ['-i', dir], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
}

t.test('an upload into an unwritable served folder gets 507 STORAGE_DENIED, and nothing changes', async (t) => {
  const h = await startServer(t);
  const unlock = lockFolder(h.sdir);
  if (!unlock) return t.skip('cannot make a folder unwritable here (no chattr as root)');
  t.teardown(unlock);
  const res = await h.request('PUT', '/v1/files/new.txt', { body: 'hello' });
  t.equal(res.status, 507);
  t.equal(res.json().code, 'STORAGE_DENIED');
  t.match(res.json().message, /cannot write to its folder/);
  t.notMatch(res.json().message, new RegExp(h.sdir), 'no absolute path reaches the client');
  t.notOk(existsSync(join(h.sdir, 'new.txt')));
  t.same(h.stagedFiles(), [], 'the staged file was removed');
});
