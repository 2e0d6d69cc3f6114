/**
 * A `--once` run that finds nothing to do writes nothing to the state database: a run's first write costs an
 * fsync of SQLite's WAL header (150 ms was seen on a busy disk), which a no-change rescan of a big tree paid
 * only to store the journal revision it already had.
 */
import t from 'tap';
import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scanner, type Logger } from '@deltabox/scanner';
import { mintToken, startServer, tempDir, mirrors } from './helpers/harness.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

t.test('a rescan with nothing to do leaves the state database untouched', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'c');
  const sdir = join(base, 's');
  mkdirSync(join(cdir, 'sub'), { recursive: true });
  // Dated an hour back: a file written in the same second as a scan is hashed again by the next one (racily
  // clean), and that run rightly records it.
  const past = new Date(Date.now() - 3_600_000);
  const write = (name: string, text: string) => {
    writeFileSync(join(cdir, 'sub', name), text);
    utimesSync(join(cdir, 'sub', name), past, past);
  };
  for (let i = 0; i < 20; i++) write(`f${i}.txt`, `file ${i}\n`);
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const token = mintToken(sdir);
  const once = async () => {
    const scanner = new Scanner({ cdir, server: server.url, token, watch: false, logger: quiet });
    try {
      return await scanner.syncOnce();
    } finally {
      await scanner.stop();
    }
  };
  await once();
  t.ok(mirrors(cdir, sdir), 'the first run synced the folder');
  const db = join(cdir, '.deltabox', 'state.sqlite');
  const before = statSync(db, { bigint: true });
  await once();
  const after = statSync(db, { bigint: true });
  t.equal(after.mtimeNs, before.mtimeNs, 'the state database was not written (no checkpoint at close)');
  t.equal(after.size, before.size);
  // The same holds after a run that did send something: only that run writes.
  write('new.txt', 'new\n');
  await once();
  t.ok(mirrors(cdir, sdir));
  const written = statSync(db, { bigint: true });
  t.not(written.mtimeNs, after.mtimeNs, 'a run that sent a file does write its state');
  await once();
  t.equal(statSync(db, { bigint: true }).mtimeNs, written.mtimeNs, 'and the quiet run after it does not');
});
