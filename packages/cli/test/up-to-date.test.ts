/**
 * A running scanner says once, each time it comes to rest, that the server mirrors the folder (issue 9:
 * "nothing ever says up to date"); never again while nothing changes.
 */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scanner, type Logger } from '@deltabox/scanner';
import { mintToken, startServer, tempDir, mirrors, waitFor } from './helpers/harness.js';

t.test('the scanner logs "up to date" once per return to rest', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'c');
  const sdir = join(base, 's');
  mkdirSync(cdir);
  writeFileSync(join(cdir, 'a.txt'), 'one\n');
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const infos: string[] = [];
  const logger: Logger = { debug() {}, info: (_d, m) => void infos.push(m ?? ''), warn() {}, error() {} };
  const scanner = new Scanner({ cdir, server: server.url, token: mintToken(sdir), watch: false, intervalMs: 150, logger });
  t.teardown(() => scanner.stop());
  await scanner.start();
  const upToDate = () => infos.filter((m) => m.startsWith('up to date')).length;
  await waitFor(() => upToDate() === 1, 'the first "up to date" line');
  t.ok(mirrors(cdir, sdir), 'said only once the server mirrors the folder');
  writeFileSync(join(cdir, 'b.txt'), 'two\n');
  await waitFor(() => upToDate() === 2, 'a second "up to date" line after the new file synced');
  t.ok(mirrors(cdir, sdir));
  const said = upToDate();
  // Observing an absence needs time to pass: four ticks of 150 ms at rest.
  await new Promise<void>((resolve) => setTimeout(resolve, 600));
  t.equal(upToDate(), said, 'not repeated while nothing changes');
  t.match(infos.find((m) => m.startsWith('up to date')) ?? '', /^up to date: the server mirrors /);
});
