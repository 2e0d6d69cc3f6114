/**
 * What `scan --once` tells the user about names it cannot sync (issue 9, item 7 and the terminal items):
 * names that are not valid UTF-8 are warned about and counted as skipped, never dropped silently; names
 * with newlines or escape sequences are printed escaped; and a stderr that is not a terminal gets no
 * progress or clear-line codes. The watcher's ELOOP warning is given once, not on every change.
 */
import t from 'tap';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scanner, type Logger } from '@deltabox/scanner';
import { mintToken, startServer, tempDir, treeDigest, waitFor } from './helpers/harness.js';
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

t.test('a symlink loop makes the watcher warn once, not on every change', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'c');
  const sdir = join(base, 's');
  mkdirSync(cdir);
  symlinkSync('self', join(cdir, 'self')); // ELOOP for fs.watch's recursive walk, again for every new folder
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, error() {}, warn: (_d, message) => void warnings.push(message ?? '') };
  const scanner = new Scanner({ cdir, server: server.url, token: mintToken(sdir), intervalMs: 600_000, logger });
  t.teardown(() => scanner.stop());
  await scanner.start();
  for (let i = 0; i < 3; i++) {
    mkdirSync(join(cdir, `d${i}`));
    writeFileSync(join(cdir, `d${i}/f.txt`), `${i}`);
    // The periodic scan is 10 minutes away: only the watcher brings each change to the server.
    await waitFor(() => treeDigest(sdir)[`d${i}/f.txt`] !== undefined, `d${i}/f.txt reached the server through the watcher`);
  }
  t.equal(warnings.filter((w) => w.startsWith('file watcher failed')).length, 1, warnings.join('\n'));
});
