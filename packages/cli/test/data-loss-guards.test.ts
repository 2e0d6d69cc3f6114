/**
 * Issue 9's data-loss cases, end to end with a real server and real scanner processes: a client folder
 * inside (or through a symlink, or around) the server folder, a client folder swapped for an empty one
 * while the scanner runs, and an empty client (fresh state) against a full server. In every case the
 * scanner must stop with a clear message and the server's files must all still be there.
 */
import t from 'tap';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scanner } from '@deltabox/scanner';
import { mintToken, startServer, tempDir, treeDifferences, treeDigest, waitFor } from './helpers/harness.js';
import { spawnCli } from './helpers/child.js';

function fill(dir: string, count: number, prefix = 'f'): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `${prefix}${i}.txt`), `content ${i}\n`);
}

const serverFiles = (sdir: string) => Object.entries(treeDigest(sdir)).filter(([, e]) => e.type === 'file').length;

/** Waits until the child exits or the server folder lost files (the bug: then fail at once, not at tap's timeout). */
async function exitOrLoss(child: ReturnType<typeof spawnCli>, sdir: string, files: number) {
  let exit: { code: number | null } | undefined;
  void child.exited.then((r) => (exit = r));
  await waitFor(() => exit !== undefined || serverFiles(sdir) < files, `the scanner stops (stderr: ${child.stderr()})`, 60_000);
  return exit ?? { code: null };
}

t.test('a client folder inside the server folder (directly, through a symlink, or containing it) is refused; nothing is deleted', async (t) => {
  const base = tempDir(t);
  const sdir = join(base, 'same');
  mkdirSync(join(sdir, 'sub'), { recursive: true });
  writeFileSync(join(sdir, 'precious.txt'), 'precious\n');
  writeFileSync(join(sdir, 'sub/inner.txt'), 'inner\n');
  symlinkSync(sdir, join(base, 'samelink'));
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const token = mintToken(sdir);
  // Seed the server's index with what is in its folder, as a first sync from elsewhere would.
  const seed = join(base, 'seed');
  mkdirSync(join(seed, 'sub'), { recursive: true });
  writeFileSync(join(seed, 'precious.txt'), 'precious\n');
  writeFileSync(join(seed, 'sub/inner.txt'), 'inner\n');
  const seeder = new Scanner({ cdir: seed, server: server.url, token, watch: false });
  await seeder.syncOnce();
  await seeder.stop();

  for (const cdir of [join(sdir, 'sub'), join(base, 'samelink/sub'), join(base, 'samelink')]) {
    const child = spawnCli(['scan', '--cdir', cdir, '--server', server.url, '--token', token, '--once']);
    const { code } = await child.exited;
    t.equal(code, 1, `${cdir}: exits 1 (${child.stderr()})`);
    t.match(child.stderr(), /refusing to sync: the client folder .* (lies inside|is) (the|a deltabox) server's folder/, cdir);
    t.notOk(existsSync(join(cdir, '.deltabox/state.sqlite')), `${cdir}: no client state left in the server's folder`);
    t.ok(existsSync(join(sdir, 'precious.txt')), `${cdir}: the server's files are still there`);
    t.ok(existsSync(join(sdir, 'sub/inner.txt')));
  }

  // The other way round: the client folder holds the server folder.
  const outer = join(base, 'outer');
  const inner = join(outer, 'a/srv');
  fill(inner, 3);
  const nested = await startServer(inner);
  t.teardown(() => nested.close());
  const around = spawnCli(['scan', '--cdir', outer, '--server', nested.url, '--token', mintToken(inner), '--once']);
  t.equal((await around.exited).code, 1, around.stderr());
  t.match(around.stderr(), /contains the server's folder \(at a\/srv\)/);
  t.same(readdirSync(inner).filter((n) => n !== '.deltabox').sort(), ['f0.txt', 'f1.txt', 'f2.txt'], 'nothing was added to or removed from the server folder');
});

t.test('a client folder swapped for an empty one while scanning stops the scanner; the server keeps its files', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'c');
  const sdir = join(base, 's');
  fill(cdir, 5); // under the mass-delete floor: the root identity alone must stop it
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const child = spawnCli(['scan', '--cdir', cdir, '--server', server.url, '--token', mintToken(sdir), '--interval', '300ms']);
  t.teardown(() => child.proc.kill('SIGKILL'));
  await waitFor(() => treeDifferences(cdir, sdir).length === 0, `first sync (stderr: ${child.stderr()})`);
  renameSync(cdir, join(base, 'c_moved')); // what an unmounted drive looks like
  mkdirSync(cdir);
  const { code } = await exitOrLoss(child, sdir, 5);
  t.equal(code, 1, child.stderr());
  // The rename and the mkdir are two steps: a pass (the watcher wakes one at the rename) may see the folder
  // gone or the new one; both stop the same way (scanner/test/guards.test.ts checks each message on its own).
  t.match(child.stderr(), /not the folder this scanner's state belongs to: (another folder is now at its path|it is gone).*Nothing was deleted/);
  t.equal(serverFiles(sdir), 5, 'every file is still on the server');
  t.notOk(existsSync(join(cdir, '.deltabox/state.sqlite')), 'no state was made in the new folder');
});

t.test('the first sync of an empty client folder against a small server deletes nothing until confirmed', async (t) => {
  // Below the guard's 10-file floor: an empty mount point or a mistyped --cdir on its first sync.
  const base = tempDir(t);
  const sdir = join(base, 's');
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const token = mintToken(sdir);
  const seed = join(base, 'seed');
  fill(seed, 3);
  const seeder = new Scanner({ cdir: seed, server: server.url, token, watch: false });
  await seeder.syncOnce();
  await seeder.stop();
  t.equal(serverFiles(sdir), 3);
  const empty = join(base, 'empty');
  mkdirSync(empty);
  const refused = spawnCli(['scan', '--cdir', empty, '--server', server.url, '--token', token, '--mode', 'push', '--once']);
  t.equal((await refused.exited).code, 1, refused.stderr());
  t.match(refused.stderr(), /would delete 3 of the server's 3 files \(100%, over the 50% limit, on this client folder's first sync\)/);
  t.equal(serverFiles(sdir), 3, 'nothing deleted');
  // The seeding folder is past its first sync: removing one of its three files is an ordinary edit.
  rmSync(join(seed, 'f0.txt'));
  const again = new Scanner({ cdir: seed, server: server.url, token, watch: false });
  await again.syncOnce();
  await again.stop();
  t.equal(serverFiles(sdir), 2);
});

t.test('an empty client with a fresh state against a full server, or a mass delete while scanning, is stopped until confirmed', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'c');
  const sdir = join(base, 's');
  fill(cdir, 20);
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const token = mintToken(sdir);
  const once = (dir: string, ...extra: string[]) => spawnCli(['scan', '--cdir', dir, '--server', server.url, '--token', token, '--mode', 'push', '--once', ...extra]);
  const first = new Scanner({ cdir, server: server.url, token, watch: false }); // in process: no child start-up
  await first.syncOnce();
  await first.stop();
  t.equal(serverFiles(sdir), 20);

  // The restart after the swap: a new empty folder, so a fresh state, against the full server.
  const empty = join(base, 'empty');
  mkdirSync(empty);
  const refused = once(empty);
  t.equal((await refused.exited).code, 1, refused.stderr());
  t.match(refused.stderr(), /would delete 20 of the server's 20 files \(100%, over the 50% limit, on this client folder's first sync\); nothing was deleted.*--allow-mass-delete/);
  t.equal(serverFiles(sdir), 20, 'nothing deleted');
  const badFlag = once(empty, '--max-delete', '150');
  t.equal((await badFlag.exited).code, 2, 'a percentage over 100 is a usage error');

  // While scanning: 15 of 20 deleted in one go.
  const daemon = spawnCli(['scan', '--cdir', cdir, '--server', server.url, '--token', token, '--mode', 'push', '--interval', '300ms', '--no-watch']);
  t.teardown(() => daemon.proc.kill('SIGKILL'));
  await waitFor(() => existsSync(join(cdir, '.deltabox/scanner.lock')), 'scanner running');
  for (let i = 0; i < 15; i++) rmSync(join(cdir, `f${i}.txt`));
  const stopped = await exitOrLoss(daemon, sdir, 20);
  t.equal(stopped.code, 1, daemon.stderr());
  t.match(daemon.stderr(), /would delete 15 of the server's 20 files/);
  t.equal(serverFiles(sdir), 20, 'nothing deleted');

  const confirmed = once(cdir, '--allow-mass-delete');
  t.equal((await confirmed.exited).code, 0, confirmed.stderr());
  t.same(treeDifferences(cdir, sdir), [], 'confirmed: the server mirrors the client');
  const raised = once(empty, '--max-delete', '100');
  t.equal((await raised.exited).code, 0, raised.stderr());
  t.equal(serverFiles(sdir), 0);
});
