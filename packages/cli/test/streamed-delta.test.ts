/**
 * End to end, a real server and scanner on 127.0.0.1 with a forwarding proxy between them that watches the
 * PATCH requests: an edited large file's delta is streamed into its request as it is computed (no temp file of
 * the delta), and a delta that would not save enough is stopped mid-request, committing nothing, for the whole file.
 */
import t from 'tap';
import { createServer, request } from 'node:http';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededBytes, syncRig, treeDifferences } from './helpers/harness.js';

/** Forwards to `upstream`; for each PATCH records what the client's temp folder held when its headers arrived. */
async function watchingProxy(t: Tap.Test, upstream: string, tmpDir: string) {
  const patches: Array<{ tmp: string[]; chunked: boolean }> = [];
  const target = new URL(upstream);
  const proxy = createServer((req, res) => {
    if (req.method === 'PATCH') patches.push({ tmp: readdirSync(tmpDir), chunked: req.headers['transfer-encoding'] === 'chunked' });
    const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.on('error', () => out.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => {
    proxy.closeAllConnections();
    proxy.close(() => r());
  }));
  const address = proxy.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, patches };
}

async function setup(t: Tap.Test) {
  let proxy: Awaited<ReturnType<typeof watchingProxy>> | undefined;
  const rig = await syncRig(t, {
    via: async (url, cdir) => {
      proxy = await watchingProxy(t, url, join(cdir, '.deltabox', 'tmp'));
      return proxy.url;
    },
  });
  /** Writes `first`, syncs, writes `second`, syncs: what the second sync sent, and how. */
  const editAndSync = async (path: string, first: Buffer, second: Buffer) => {
    writeFileSync(join(rig.cdir, path), first);
    await rig.scanner.start();
    await rig.sync();
    writeFileSync(join(rig.cdir, path), second);
    const before = rig.scanner.summary();
    const wire = rig.scanner.wireTotals().sentBytes;
    await rig.sync();
    const after = rig.scanner.summary();
    return { deltas: after.deltas - before.deltas, uploads: after.uploads - before.uploads, sent: rig.scanner.wireTotals().sentBytes - wire };
  };
  return { ...rig, proxy: proxy!, editAndSync };
}

t.test('an edited large file\'s delta goes into its PATCH as it is computed, never through a temp file', async (t) => {
  const { cdir, sdir, proxy, editAndSync } = await setup(t);
  const content = seededBytes(71, 8 * 1024 * 1024);
  const edited = Buffer.from(content);
  for (let i = 0; i < 10; i++) edited.write(`edit number ${i}`, 700_000 * i + 12_345);
  const { deltas, sent } = await editAndSync('big.bin', content, edited);
  t.same(treeDifferences(cdir, sdir), [], 'the server has the edited file');
  t.equal(deltas, 1, 'as a delta');
  t.equal(proxy.patches.length, 1, 'one PATCH');
  t.same(proxy.patches[0]!.tmp.filter((name) => name.startsWith('delta-')), [], 'no delta file existed when the request started');
  t.ok(sent < 64 * 1024, `sent ${sent} B for 10 edits of an 8 MiB file`);
});

t.test('a delta that would not save enough is stopped mid-request: nothing is committed from it, and the whole file goes', async (t) => {
  const { cdir, sdir, proxy, editAndSync } = await setup(t);
  const size = 3 * 1024 * 1024;
  // Nothing in common with the old version.
  const { deltas, uploads, sent } = await editAndSync('data.bin', seededBytes(72, size), seededBytes(73, size));
  t.same(treeDifferences(cdir, sdir), [], 'the server has the new file');
  t.same([deltas, uploads], [0, 1], 'no delta, one whole upload');
  t.equal(proxy.patches.length, 1, 'the delta was started');
  t.ok(sent > size && sent < size + 0.8 * size, `sent ${sent} B: the file once, and at most three quarters of it as a delta before it stopped`);
  t.same(readdirSync(join(sdir, '.deltabox', 'tmp')).filter((n) => n.endsWith('.staged')), [], 'the server kept nothing staged from the stopped delta');
});

t.test('a delta longer than its streamed head follows from a temp file in the same request, nothing sent twice', async (t) => {
  const { cdir, sdir, proxy, editAndSync } = await setup(t);
  const content = seededBytes(74, 8 * 1024 * 1024);
  const edited = Buffer.from(content);
  seededBytes(75, 3 * 1024 * 1024).copy(edited, 2 * 1024 * 1024); // 3 MiB rewritten: a delta past the 1 MiB head
  const { deltas, sent } = await editAndSync('big.bin', content, edited);
  t.same(treeDifferences(cdir, sdir), [], 'the server has the edited file');
  t.equal(deltas, 1, 'as a delta');
  t.equal(proxy.patches.length, 1, 'in one PATCH');
  t.ok(sent > 3 * 1024 * 1024 * 0.8 && sent < 3 * 1024 * 1024 * 1.05, `sent ${sent} B for 3 MiB rewritten: the delta once`);
  t.same(readdirSync(join(cdir, '.deltabox', 'tmp')).filter((name) => name.startsWith('delta-')), [], 'its temp file is gone');
});
