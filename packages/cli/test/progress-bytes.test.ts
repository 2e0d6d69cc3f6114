/**
 * The progress line counts the bytes that will actually go: a new file's size, but not the whole size of
 * a modified file that goes as a delta (issue 9 showed `47.7 MiB left` for a small edit). Real server,
 * real scanner; the changes are queued by a scan of a scanner that has not connected yet, so nothing is
 * sent while the counts are read.
 */
import t from 'tap';
import { mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Scanner } from '@deltabox/scanner';
import { mintToken, startServer, tempDir, writeSeededFile } from './helpers/harness.js';

t.test('a queued edit of a synced file is not counted as its whole size', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'c');
  const sdir = join(base, 's');
  mkdirSync(cdir);
  writeSeededFile(join(cdir, 'big.bin'), 1, 4 * 1024 * 1024);
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const token = mintToken(sdir);
  const first = new Scanner({ cdir, server: server.url, token, watch: false });
  await first.syncOnce();
  await first.stop();

  const fd = openSync(join(cdir, 'big.bin'), 'r+');
  writeSync(fd, Buffer.from('a small edit'), 0, 12, 2 * 1024 * 1024);
  closeSync(fd);
  writeSeededFile(join(cdir, 'new.bin'), 2, 100 * 1024);
  const scanner = new Scanner({ cdir, server: server.url, token, watch: false, intervalMs: 600_000 });
  t.teardown(() => scanner.stop());
  await scanner.scanNow();
  const p = scanner.progress();
  t.equal(p.pendingPaths, 2);
  t.equal(p.pendingBytes, 100 * 1024, 'the new file whole; the edit is not 4 MiB to send');
  t.equal(p.deltaPaths, 1, 'the edit is shown as a delta still to compute');
});
