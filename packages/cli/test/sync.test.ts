/**
 * End to end: a real server and a real scanner on 127.0.0.1. Every change kind reaches the server and the
 * trees compare equal (walked and hashed on both sides).
 */
import t from 'tap';
import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SignatureBuilder, encodeSignature } from '@deltabox/core';
import { Scanner } from '@deltabox/scanner';
import { mintToken, seededBytes, startServer, syncRig, tempDir, treeDifferences, treeDigest, waitFor } from './helpers/harness.js';

const setup = syncRig;

t.test('every change kind reaches the server and the trees compare equal', async (t) => {
  const { cdir, sdir, scanner, sync } = await setup(t);
  await scanner.start();
  // New files of several kinds, empty file, empty folder, deep path, spaces, Unicode (NFD on disk).
  mkdirSync(join(cdir, 'a/b/c/d/e/f'), { recursive: true });
  writeFileSync(join(cdir, 'a/b/c/d/e/f/deep file.txt'), 'deep');
  writeFileSync(join(cdir, 'empty'), '');
  mkdirSync(join(cdir, 'empty folder'));
  writeFileSync(join(cdir, 'Cafe\u0301 nai\u0308ve.txt'), 'unicode');
  writeFileSync(join(cdir, 'medium.bin'), seededBytes(1, 300_000));
  writeFileSync(join(cdir, "100% #1 ?&=+ 'quoted'.txt"), 'url-special characters');
  writeFileSync(join(cdir, 'tool.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(cdir, 'tool.sh'), 0o755);
  utimesSync(join(cdir, 'empty'), new Date(1_500_000_000_000), new Date(1_500_000_000_000));
  await sync();
  t.same(treeDifferences(cdir, sdir), [], 'initial tree mirrored');
  t.ok(treeDigest(sdir)['Café naïve.txt'], 'Unicode name stored in NFC');
  t.equal(treeDigest(sdir)['tool.sh']!.executable, true, 'executable bit preserved');
  t.equal(treeDigest(sdir)['empty']!.mtimeMs, 1_500_000_000_000, 'mtime preserved');

  // Modify (delta), chmod, touch, delete a file, delete a folder tree, replace a file by a folder.
  const medium = seededBytes(1, 300_000);
  medium.write('EDITED', 150_000);
  writeFileSync(join(cdir, 'medium.bin'), medium);
  chmodSync(join(cdir, 'tool.sh'), 0o644);
  utimesSync(join(cdir, 'empty'), new Date(1_600_000_000_000), new Date(1_600_000_000_000));
  rmSync(join(cdir, 'a/b/c'), { recursive: true });
  rmSync(join(cdir, 'Café naïve.txt'.normalize('NFD')));
  writeFileSync(join(cdir, 'was a file'), 'x');
  await sync();
  rmSync(join(cdir, 'was a file'));
  mkdirSync(join(cdir, 'was a file'));
  writeFileSync(join(cdir, 'was a file/inside'), 'y');
  await sync();
  t.same(treeDifferences(cdir, sdir), [], 'edits, deletes and type changes mirrored');
  t.ok(scanner.summary().deltas >= 1, 'the modified file went as a delta');
});

t.test('a rename or move sends no file content', async (t) => {
  const { cdir, sdir, scanner, sync } = await setup(t);
  mkdirSync(join(cdir, 'docs'));
  writeFileSync(join(cdir, 'docs/report.bin'), seededBytes(7, 2_000_000));
  writeFileSync(join(cdir, 'docs/notes.txt'), seededBytes(8, 50_000));
  await scanner.start();
  await sync();
  const before = scanner.wireTotals();
  renameSync(join(cdir, 'docs/report.bin'), join(cdir, 'report renamed.bin'));
  renameSync(join(cdir, 'docs'), join(cdir, 'documents'));
  await sync();
  const after = scanner.wireTotals();
  t.same(treeDifferences(cdir, sdir), [], 'moves mirrored');
  const sent = after.sentBytes - before.sentBytes;
  t.ok(sent < 10_000, `moves sent ${sent} bytes, far below the 2 MB file`);
  t.equal(scanner.summary().moves, 2);
});

t.test('a renamed folder tree is one server-side move; edits made inside it still arrive', async (t) => {
  const { cdir, sdir, scanner, sync } = await setup(t);
  for (let d = 0; d < 5; d++) {
    mkdirSync(join(cdir, `project/src/pkg${d}`), { recursive: true });
    for (let f = 0; f < 20; f++) writeFileSync(join(cdir, `project/src/pkg${d}/file${f}.ts`), seededBytes(d * 100 + f, 5_000));
  }
  await scanner.start();
  await sync();
  const before = scanner.wireTotals();
  const movesBefore = scanner.summary().moves;
  renameSync(join(cdir, 'project'), join(cdir, 'project-renamed'));
  writeFileSync(join(cdir, 'project-renamed/src/pkg0/file0.ts'), 'edited after the rename');
  rmSync(join(cdir, 'project-renamed/src/pkg1/file1.ts'));
  await sync();
  t.same(treeDifferences(cdir, sdir), [], 'renamed tree mirrored');
  t.equal(scanner.summary().moves - movesBefore, 1, 'one move for 100 files');
  const sent = scanner.wireTotals().sentBytes - before.sentBytes;
  t.ok(sent < 20_000, `sent ${sent} bytes for a 500 KB tree`);
});

t.test('ignored and temp files and symlinks are not synced; the rest goes on', async (t) => {
  const { cdir, sdir, scanner, sync } = await setup(t);
  writeFileSync(join(cdir, '.deltaboxignore'), 'build/\n*.log\n');
  mkdirSync(join(cdir, 'build'));
  writeFileSync(join(cdir, 'build/out.o'), 'obj');
  writeFileSync(join(cdir, 'app.log'), 'log');
  writeFileSync(join(cdir, '.notes.txt.swp'), 'swap');
  writeFileSync(join(cdir, 'draft~'), 'backup');
  writeFileSync(join(cdir, '~$report.docx'), 'owner');
  writeFileSync(join(cdir, '.DS_Store'), 'mac');
  writeFileSync(join(cdir, 'keep.txt'), 'keep');
  writeFileSync(join(cdir, 'secret.txt'), 'no access');
  chmodSync(join(cdir, 'secret.txt'), 0o000);
  symlinkSync('/etc/passwd', join(cdir, 'link'));
  await scanner.start();
  await sync();
  const server = treeDigest(sdir);
  t.same(Object.keys(server).sort(), process.getuid?.() === 0 ? ['.deltaboxignore', 'keep.txt', 'secret.txt'] : ['.deltaboxignore', 'keep.txt']);
  chmodSync(join(cdir, 'secret.txt'), 0o644);
});

t.test('a saved file reaches the server within about a second through the watcher', async (t) => {
  const { cdir, sdir, scanner } = await setup(t, { watch: true });
  await scanner.start();
  await scanner.waitForIdle();
  const started = Date.now();
  writeFileSync(join(cdir, 'saved.txt'), 'hello watcher');
  await waitFor(() => treeDigest(sdir)['saved.txt'] !== undefined, 'saved.txt on the server', 5_000);
  t.ok(Date.now() - started < 2_500, `(about a second; slack for a loaded machine) arrived after ${Date.now() - started} ms`);
});

t.test('on a 412 the delta falls back to the server\'s signature and still sends only changed bytes', async (t) => {
  const { cdir, sdir, server, token, scanner, sync } = await setup(t);
  const original = seededBytes(11, 1_000_000);
  writeFileSync(join(cdir, 'shared.bin'), original);
  await scanner.start();
  await sync();
  // Another writer replaces the server's version behind the scanner's back.
  const theirs = Buffer.from(original);
  theirs.write('THEIR EDIT', 10_000);
  const put = await fetch(`${server.url}/v1/files/shared.bin`, { method: 'PUT', body: theirs, headers: { authorization: `Bearer ${token}` } });
  t.equal(put.status, 200, 'the other writer succeeded');
  const ours = Buffer.from(original);
  ours.write('OUR EDIT', 900_000);
  writeFileSync(join(cdir, 'shared.bin'), ours);
  const before = scanner.wireTotals();
  await sync();
  const sent = scanner.wireTotals().sentBytes - before.sentBytes;
  t.same(treeDifferences(cdir, sdir), [], 'the client version wins');
  t.ok(sent < 100_000, `sent ${sent} bytes for a 1 MB file after the conflict`);
  t.equal(scanner.summary().uploads, 1, 'no whole-file upload besides the first');
});

t.test('with the basis cache emptied, a modified file still goes as a delta (server signature)', async (t) => {
  const { cdir, sdir, scanner, sync } = await setup(t);
  writeFileSync(join(cdir, 'doc.bin'), seededBytes(12, 2_000_000));
  await scanner.start();
  await sync();
  rmSync(join(cdir, '.deltabox/cache'), { recursive: true });
  mkdirSync(join(cdir, '.deltabox/cache'));
  const edited = seededBytes(12, 2_000_000);
  edited.write('changed', 1_000_000);
  writeFileSync(join(cdir, 'doc.bin'), edited);
  const before = scanner.wireTotals();
  await sync();
  const wire = scanner.wireTotals();
  t.same(treeDifferences(cdir, sdir), []);
  t.ok(wire.sentBytes - before.sentBytes < 50_000, `sent ${wire.sentBytes - before.sentBytes} bytes`);
  t.equal(scanner.summary().deltas, 1);
});

t.test('a file deleted on the server behind the scanner\'s back is sent whole when it changes', async (t) => {
  const { cdir, sdir, server, token, scanner, sync } = await setup(t);
  writeFileSync(join(cdir, 'doc.bin'), seededBytes(21, 500_000));
  await scanner.start();
  await sync();
  const del = await fetch(`${server.url}/v1/files/doc.bin`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  t.equal(del.status, 204);
  rmSync(join(cdir, '.deltabox/cache'), { recursive: true });
  mkdirSync(join(cdir, '.deltabox/cache'));
  const edited = seededBytes(21, 500_000);
  edited.write('changed', 250_000);
  writeFileSync(join(cdir, 'doc.bin'), edited);
  await sync();
  t.same(treeDifferences(cdir, sdir), []);
});

t.test('many small new files go in a few batch requests, several in flight', async (t) => {
  const { cdir, sdir, scanner, sync } = await setup(t);
  for (let d = 0; d < 4; d++) {
    mkdirSync(join(cdir, `d${d}`));
    for (let f = 0; f < 100; f++) writeFileSync(join(cdir, `d${d}/f${f}.txt`), `file ${d}/${f}`);
  }
  await scanner.start();
  await sync();
  t.same(treeDifferences(cdir, sdir), []);
  const { requests, uploads } = scanner.summary();
  t.equal(uploads, 400);
  t.ok(requests <= 20, `400 files in ${requests} requests`);
});

t.test('a file renamed while its upload is in flight leaves nothing at its old path (model seed 1315890423)', async (t) => {
  // start() returns with the new file's upload under way; the rename is scanned while it is in flight.
  for (let run = 0; run < 5; run++) {
    const { cdir, sdir, scanner, sync } = await syncRig(t);
    writeFileSync(join(cdir, 'a.txt'), seededBytes(7, 40));
    await scanner.start();
    renameSync(join(cdir, 'a.txt'), join(cdir, 'b.bin'));
    await sync();
    t.same(treeDifferences(cdir, sdir), [], `run ${run}: mirrored`);
  }
});

t.test('an edited small file goes as a delta against its kept signature; without it, the server\'s; a tiny one goes whole', async (t) => {
  const { cdir, sdir, server, token, scanner, sync } = await setup(t);
  const small = seededBytes(31, 30_000);
  writeFileSync(join(cdir, 'notes.txt'), small);
  writeFileSync(join(cdir, 'tiny.txt'), seededBytes(32, 1_000));
  await scanner.start();
  await sync();
  small.write('a sixty-byte line inserted into the middle of a small file\n', 15_000);
  writeFileSync(join(cdir, 'notes.txt'), small);
  writeFileSync(join(cdir, 'tiny.txt'), seededBytes(33, 1_000));
  const before = scanner.wireTotals();
  const counts = scanner.summary();
  await sync();
  const wire = scanner.wireTotals();
  const total = wire.sentBytes - before.sentBytes + wire.receivedBytes - before.receivedBytes;
  t.same(treeDifferences(cdir, sdir), []);
  t.equal(scanner.summary().deltas - counts.deltas, 1, 'the 30 KB file went as a delta');
  t.equal(scanner.summary().uploads - counts.uploads, 1, 'the 1 KB file went whole');
  t.ok(total < 5_000, `wire total ${total} B for both edits (the 30 KB file alone was 30 KB whole)`);
  t.equal(scanner.summary().requests - counts.requests, 1, 'both in one batch: the signature was kept locally');

  // Another writer changes the server's copy: no signature is kept for that version, so after the 412 the
  // delta goes against the server's signature.
  const theirs = Buffer.from(small);
  theirs.write('THEIR EDIT', 1_000);
  const put = await fetch(`${server.url}/v1/files/notes.txt`, { method: 'PUT', body: theirs, headers: { authorization: `Bearer ${token}` } });
  t.equal(put.status, 200);
  small.write('a second line, the same length, written over the middle part\n', 20_000);
  writeFileSync(join(cdir, 'notes.txt'), small);
  const again = scanner.summary();
  await sync();
  t.same(treeDifferences(cdir, sdir), []);
  t.equal(scanner.summary().deltas - again.deltas, 1, 'a delta again');
  t.equal(scanner.summary().requests - again.requests, 3, 'the batch that refused the delta, the server\'s signature, the delta alone');
});

t.test('edited small files go as deltas in a few batch requests; the server applies them all', async (t) => {
  const { cdir, sdir, scanner, sync } = await setup(t);
  const content = (i: number) => seededBytes(100 + i, 6_000 + 97 * i);
  for (let d = 0; d < 3; d++) mkdirSync(join(cdir, `d${d}`));
  const path = (i: number) => join(cdir, `d${i % 3}`, `f${i}.txt`);
  for (let i = 0; i < 150; i++) writeFileSync(path(i), content(i));
  writeFileSync(join(cdir, 'tiny.txt'), 'a tiny file');
  await scanner.start();
  await sync();
  for (let i = 0; i < 150; i++) {
    const edited = content(i);
    edited.write(`edit ${i} `.repeat(6), 1_000 + 31 * i); // ~50 bytes over the middle
    writeFileSync(path(i), edited);
  }
  writeFileSync(join(cdir, 'tiny.txt'), 'a tiny file, edited');
  const before = scanner.summary();
  const wire = scanner.wireTotals();
  await sync();
  t.same(treeDifferences(cdir, sdir), [], 'every edit reached the server');
  const after = scanner.summary();
  t.equal(after.deltas - before.deltas, 150, 'each 6-20 KB file went as a delta');
  t.equal(after.uploads - before.uploads, 1, 'the tiny one went whole');
  t.ok(after.requests - before.requests <= 6, `151 edits in ${after.requests - before.requests} requests`);
  const sent = scanner.wireTotals().sentBytes - wire.sentBytes;
  t.ok(sent < 150 * 1_000, `sent ${sent} B for 150 edited files of ~13 KB (whole: ~2 MB)`);
});

t.test('files up to 1 MiB go in batches, new and then edited: the edits as byte-exact deltas against the bytes kept', async (t) => {
  const { cdir, sdir, scanner, sync } = await setup(t);
  const sizes = Array.from({ length: 24 }, (_, i) => 100_000 + 37_000 * i); // 100 KB to ~950 KB: none fits the old 64 KiB limit
  sizes.forEach((size, i) => writeFileSync(join(cdir, `f${i}.bin`), seededBytes(200 + i, size)));
  await scanner.start();
  await sync();
  t.same(treeDifferences(cdir, sdir), []);
  const first = scanner.summary();
  t.equal(first.uploads, 24);
  const total = sizes.reduce((a, b) => a + b, 0);
  t.ok(first.requests <= Math.ceil(total / (8 * 1024 * 1024)) + 4, `24 files (${total} B) in ${first.requests} requests`);
  for (const i of [3, 8, 12, 17, 22]) {
    const edited = seededBytes(200 + i, sizes[i]!);
    edited.write('one edit in the middle of a file that went in a batch', 90_000);
    writeFileSync(join(cdir, `f${i}.bin`), edited);
  }
  const wire = scanner.wireTotals().sentBytes;
  await sync();
  t.same(treeDifferences(cdir, sdir), []);
  const after = scanner.summary();
  t.equal(after.deltas, 5, 'each edit went as a delta');
  t.equal(after.requests - first.requests, 1, 'all in one batch: the bases were kept locally, no signature was fetched');
  t.ok(scanner.wireTotals().sentBytes - wire < 2_500, `sent ${scanner.wireTotals().sentBytes - wire} B for five edits: the changed bytes, byte-exact`);
});

t.test('a batched delta the server cannot apply (a kept signature that does not fit the base) goes again alone and lands, in both modes', async (t) => {
  for (const mode of ['push', 'two-way'] as const) {
    const { cdir, sdir, scanner, sync } = await syncRig(t, { mode });
    const content = seededBytes(300, 20_000);
    writeFileSync(join(cdir, 'notes.txt'), content);
    await scanner.start();
    await sync();
    const edited = Buffer.from(content);
    edited.write('an edit in the middle', 10_000);
    // The kept signature of the synced version replaced by the edited bytes' own: the delta is all copies, which
    // the server applies to its real base, so the result is not the declared file (HASH_MISMATCH).
    const builder = new SignatureBuilder({ basisLength: edited.length, blockLength: 256 });
    builder.push(edited);
    const db = new Database(join(cdir, '.deltabox', 'state.sqlite'));
    t.equal(db.prepare('UPDATE small_sig SET sig = ?').run(Buffer.from(encodeSignature(builder.finish()))).changes, 1, `${mode}: the kept signature replaced`);
    db.close();
    writeFileSync(join(cdir, 'notes.txt'), edited);
    const before = scanner.summary();
    await sync();
    t.same(treeDifferences(cdir, sdir), [], `${mode}: the edit landed`);
    t.equal(scanner.summary().deltas - before.deltas, 1, `${mode}: as a delta, against the server's signature once the batch and the kept one failed`);
    t.ok(scanner.summary().requests - before.requests >= 3, `${mode}: the batch, then alone`);
  }
});

t.test('a --once rescan that reads the worker thread\'s listing (no watcher) still sends every change kind', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(join(cdir, 'd/e'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(cdir, `d/f${i}.txt`), `file ${i}`);
  writeFileSync(join(cdir, 'd/e/same-size.txt'), 'aaaa');
  writeFileSync(join(cdir, 'gone.txt'), 'gone');
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const token = mintToken(sdir);
  const once = async () => {
    // listingWorkerMinRows 0: the first scan of each run reads the listing, whatever the folder's size.
    const scanner = new Scanner({ cdir, server: server.url, token, watch: false, listingWorkerMinRows: 0, mode: 'two-way' });
    try {
      return await scanner.syncOnce();
    } finally {
      await scanner.stop();
    }
  };
  await once();
  t.same(treeDifferences(cdir, sdir), [], 'first sync mirrored');
  t.equal((await once()).filesChanged, 0, 'nothing changed: nothing sent');
  // One change a run: a missed change would not be sent by a later pass of the same run either (a run whose
  // first pass sends nothing verifies nothing).
  const now = new Date();
  utimesSync(join(cdir, 'd/e/same-size.txt'), now, now);
  await once();
  const stamp = new Date(1_600_000_000_000);
  const changes: Array<[string, () => void]> = [
    // An edit that keeps size and mtime within the racy window of the scan that recorded the file (git's rule;
    // that scan ran from a listing, so the window is measured from the listing's start).
    ['a same-size edit in the same mtime tick', () => {
      writeFileSync(join(cdir, 'd/e/same-size.txt'), 'bbbb');
      utimesSync(join(cdir, 'd/e/same-size.txt'), now, now);
    }],
    ['a new file', () => writeFileSync(join(cdir, 'd/e/n.txt'), 'new')],
    ['a new folder with a file', () => {
      mkdirSync(join(cdir, 'new'));
      writeFileSync(join(cdir, 'new/m.txt'), 'new');
    }],
    ['a delete', () => rmSync(join(cdir, 'gone.txt'))],
    ['a chmod', () => chmodSync(join(cdir, 'd/f1.txt'), 0o755)],
    ['a touch', () => utimesSync(join(cdir, 'd/f2.txt'), stamp, stamp)],
  ];
  for (const [what, change] of changes) {
    change();
    t.ok((await once()).filesChanged > 0, `${what}: sent`);
    t.same(treeDifferences(cdir, sdir), [], `${what}: mirrored`);
  }
});
