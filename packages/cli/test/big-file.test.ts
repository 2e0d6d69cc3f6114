/**
 * A 200 MiB file with a 100-byte edit: the scanner keeps only the signature of files over 64 MiB and still
 * sends a delta with no round trip; everything on the wire for the edit stays under 64 KiB.
 */
import t from 'tap';
import { mkdirSync, openSync, writeSync, closeSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Scanner } from '@deltabox/scanner';
import { mintToken, seededBytes, startServer, tempDir, treeDifferences, writeSeededFile } from './helpers/harness.js';

t.test('a 200 MiB file with a 100-byte edit sends under 64 KiB in total', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  const size = 200 * 1024 * 1024;
  writeSeededFile(join(cdir, 'big.bin'), 42, size);
  const server = await startServer(sdir);
  const scanner = new Scanner({ cdir, server: server.url, token: mintToken(sdir), watch: false, intervalMs: 60_000 });
  t.teardown(async () => {
    await scanner.stop();
    await server.close();
  });
  await scanner.start();
  await scanner.waitForIdle();
  t.same(treeDifferences(cdir, sdir), [], 'first upload mirrored');
  const cache = readdirSync(join(cdir, '.deltabox/cache'));
  t.ok(cache.length === 1 && cache[0]!.endsWith('.sig'), `signature mode: the cache holds ${cache.join(', ')}`);

  const fd = openSync(join(cdir, 'big.bin'), 'r+');
  writeSync(fd, seededBytes(99, 100), 0, 100, 123_456_789);
  closeSync(fd);
  const before = scanner.wireTotals();
  const started = Date.now();
  await scanner.scanNow();
  const scannedMs = Date.now() - started;
  await scanner.waitForIdle();
  t.comment(`scan ${scannedMs} ms, transfer ${Date.now() - started - scannedMs} ms`);
  const after = scanner.wireTotals();
  const sent = after.sentBytes - before.sentBytes;
  const received = after.receivedBytes - before.receivedBytes;
  t.comment(`100-byte edit of 200 MiB: ${sent} bytes sent, ${received} received, ${Date.now() - started} ms`);
  t.same(treeDifferences(cdir, sdir), [], 'edit mirrored');
  t.ok(sent + received < 64 * 1024, `wire total ${sent + received} < 65536`);
  t.equal(scanner.summary().deltas, 1, 'sent as a delta');

  // Ten scattered small edits: the local signature's 1 KiB blocks keep each one near a kilobyte of literals
  // (4 KiB blocks cost about 42 KB for the same edits).
  const fd2 = openSync(join(cdir, 'big.bin'), 'r+');
  for (let i = 0; i < 10; i++) writeSync(fd2, seededBytes(200 + i, 100), 0, 100, 7_000_001 + i * 19_000_003);
  closeSync(fd2);
  const before2 = scanner.wireTotals();
  await scanner.scanNow();
  await scanner.waitForIdle();
  const wire2 = scanner.wireTotals();
  const total2 = wire2.sentBytes - before2.sentBytes + wire2.receivedBytes - before2.receivedBytes;
  t.same(treeDifferences(cdir, sdir), [], 'ten edits mirrored');
  t.ok(total2 < 25_000, `ten 100-byte edits: wire total ${total2} < 25000`);
  t.equal(scanner.summary().deltas, 2, 'sent as a delta');
});
