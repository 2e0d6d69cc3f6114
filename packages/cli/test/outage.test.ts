/**
 * Losing nothing: edits made while the server is down converge once it is back (the scanner reconciles
 * on reconnect), and a file rewritten 20 times while it waits is uploaded once.
 */
import t from 'tap';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scanner } from '@deltabox/scanner';
import { journal, mintToken, seededBytes, startServer, tempDir, treeDifferences, waitFor } from './helpers/harness.js';

t.test('edits made while the server is down converge after it restarts', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  for (let i = 0; i < 10; i++) writeFileSync(join(cdir, `file-${i}.txt`), `v1 ${i}`);
  writeFileSync(join(cdir, 'big.bin'), seededBytes(3, 1_000_000));
  let server = await startServer(sdir);
  const port = server.port;
  const token = mintToken(sdir);
  const scanner = new Scanner({ cdir, server: server.url, token, watch: false, intervalMs: 60_000 });
  t.teardown(async () => {
    await scanner.stop();
    await server.close();
  });
  await scanner.start();
  await scanner.waitForIdle();
  t.same(treeDifferences(cdir, sdir), []);

  await server.close();
  writeFileSync(join(cdir, 'file-0.txt'), 'v2 changed offline');
  rmSync(join(cdir, 'file-1.txt'));
  renameSync(join(cdir, 'file-2.txt'), join(cdir, 'renamed offline.txt'));
  mkdirSync(join(cdir, 'new folder'));
  writeFileSync(join(cdir, 'new folder/new.txt'), 'new offline');
  const big = seededBytes(3, 1_000_000);
  big.write('offline edit', 500_000);
  writeFileSync(join(cdir, 'big.bin'), big);
  await scanner.scanNow();
  await waitFor(() => scanner.progress().offline, 'the scanner notices the outage');
  t.ok(scanner.progress().pendingPaths > 0, 'changes stay queued while offline');

  // Meanwhile someone leaves an extra file on the server: the client is the source of truth.
  writeFileSync(join(sdir, 'extra-on-server.txt'), 'not in the client');
  server = await startServer(sdir, port);
  await waitFor(() => !scanner.progress().offline, 'the scanner reconnects', 40_000);
  await scanner.waitForIdle();
  t.same(treeDifferences(cdir, sdir), [], 'converged after the outage');
});

t.test('a file rewritten 20 times between scans uploads once', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  let server = await startServer(sdir);
  const port = server.port;
  const token = mintToken(sdir);
  const scanner = new Scanner({ cdir, server: server.url, token, watch: false, intervalMs: 60_000 });
  t.teardown(async () => {
    await scanner.stop();
    await server.close();
  });
  await scanner.start();
  await scanner.waitForIdle();
  await server.close();
  for (let i = 0; i < 20; i++) {
    writeFileSync(join(cdir, 'busy.txt'), `version ${i} ${'x'.repeat(i)}`);
    await scanner.scanNow(); // each scan sees a change and queues it again: coalesced into one entry
  }
  t.equal(scanner.progress().pendingPaths, 1, 'one queue entry for 20 versions');
  server = await startServer(sdir, port);
  await waitFor(() => !scanner.progress().offline && scanner.progress().pendingPaths === 0, 'queue drained', 40_000);
  const puts = (await journal(server.url, token)).filter((c) => c.path === 'busy.txt');
  t.equal(puts.length, 1, `one upload of busy.txt (journal: ${JSON.stringify(puts)})`);
  t.same(treeDifferences(cdir, sdir), []);
});

t.test('changes made on the server by someone else are undone within an interval', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  writeFileSync(join(cdir, 'mine.txt'), 'the client version');
  const server = await startServer(sdir);
  const token = mintToken(sdir);
  const scanner = new Scanner({ cdir, server: server.url, token, watch: false, intervalMs: 200 });
  t.teardown(async () => {
    await scanner.stop();
    await server.close();
  });
  await scanner.start();
  await scanner.waitForIdle();
  const other = mintToken(sdir, 'someone-else');
  const put = (path: string, body: string) =>
    fetch(`${server.url}/v1/files/${path}`, { method: 'PUT', body, headers: { authorization: `Bearer ${other}` } });
  t.equal((await put('mine.txt', 'overwritten by someone else')).status, 200);
  t.equal((await put('theirs.txt', 'not in the client')).status, 200);
  await waitFor(() => treeDifferences(cdir, sdir).length === 0, `the server mirrors the client again: ${treeDifferences(cdir, sdir).join('; ')}`);
  t.pass('reverted');
});
