/**
 * Files dated before 1970 (issue 9 item 6), end to end: a small file goes in a batch, a large one as a PUT;
 * both must land with the client's mtime (to the millisecond the server keeps), never 1970-01-01.
 */
import t from 'tap';
import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scanner } from '@deltabox/scanner';
import { mintToken, startServer, tempDir, treeDifferences, writeSeededFile } from './helpers/harness.js';

t.test('files dated before 1970 sync with their dates, small (batch) and large (PUT)', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'c');
  const sdir = join(base, 's');
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const token = mintToken(sdir);
  mkdirSync(cdir);
  const dates: Record<string, number> = {
    'small-1969.txt': -86_400_000, // 1969-12-31
    'small-1930.txt': Date.UTC(1930, 0, 1),
    'large-1930.bin': Date.UTC(1930, 5, 15, 12, 0, 0),
  };
  writeFileSync(join(cdir, 'small-1969.txt'), 'a day before the epoch\n');
  writeFileSync(join(cdir, 'small-1930.txt'), 'long ago\n');
  writeSeededFile(join(cdir, 'large-1930.bin'), 7, 12 * 1024 * 1024); // over the batch limit: its own PUT
  // Node's utimes takes a negative number for "now"; a decimal string is taken as it is.
  for (const [name, ms] of Object.entries(dates)) utimesSync(join(cdir, name), String(ms / 1000), String(ms / 1000));
  for (const [name, ms] of Object.entries(dates)) t.equal(Math.round(statSync(join(cdir, name)).mtimeMs), ms, `${name} is dated on the client`);
  const scanner = new Scanner({ cdir, server: server.url, token, watch: false });
  t.teardown(() => scanner.stop());
  const summary = await scanner.syncOnce();
  t.equal(summary.pending, 0, 'nothing left failing');
  t.same(treeDifferences(cdir, sdir), [], 'contents mirrored');
  for (const [name, ms] of Object.entries(dates)) {
    t.equal(Math.round(statSync(join(sdir, name)).mtimeMs), ms, `${name} keeps its date (found ${statSync(join(sdir, name)).mtimeMs})`);
  }
});
