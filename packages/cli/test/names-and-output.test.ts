/**
 * What `scan --once` tells the user about names it cannot sync (issue 9, item 7 and the terminal items):
 * names that are not valid UTF-8 are warned about and counted as skipped, never dropped silently; names
 * with newlines or escape sequences are printed escaped; and a stderr that is not a terminal gets no
 * progress or clear-line codes.
 */
import t from 'tap';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mintToken, startServer, tempDir, treeDigest } from './helpers/harness.js';
import { spawnCli } from './helpers/child.js';

t.test('scan --once warns about and counts names it cannot sync, escaped, with no terminal codes off a TTY', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'c');
  const sdir = join(base, 's');
  mkdirSync(cdir);
  writeFileSync(join(cdir, 'ok.txt'), 'fine');
  writeFileSync(Buffer.concat([Buffer.from(`${cdir}/caf`), Buffer.from([0xe9]), Buffer.from('.txt')]), 'latin-1 name');
  const badDir = Buffer.concat([Buffer.from(`${cdir}/d`), Buffer.from([0xff])]);
  mkdirSync(badDir);
  writeFileSync(Buffer.concat([badDir, Buffer.from('/inner.txt')]), 'under a bad folder');
  symlinkSync(join(cdir, 'ok.txt'), join(cdir, 'evil\nname\x1b[2J')); // skipped (a symlink), with a hostile name
  const server = await startServer(sdir);
  t.teardown(() => server.close());

  const child = spawnCli(['scan', '--cdir', cdir, '--server', server.url, '--token', mintToken(sdir), '--once']);
  const { code } = await child.exited;
  const err = child.stderr();
  t.equal(code, 0, err);
  t.match(child.stdout(), /synced: 1 path\(s\) changed.*; 3 skipped \(see the warnings\)/);
  t.match(err, /warning: name is not valid UTF-8; skipped \(caf\\xe9\.txt\)/);
  t.match(err, /warning: folder name is not valid UTF-8; skipped with everything under it \(d\\xff\)/);
  t.ok(err.includes('evil\\nname\\x1b[2J'), `the hostile name is escaped: ${JSON.stringify(err)}`);
  t.notOk(/[\x1b\r]/.test(err), 'no raw escape or carriage return reaches a stderr that is not a terminal');
  t.same(Object.keys(treeDigest(sdir)), ['ok.txt']);
});
