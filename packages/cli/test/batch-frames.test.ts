/**
 * Batch bodies end to end: a real scanner uploads small new files to a real server as frames batches
 * (docs/API.md §POST /v1/batch), and falls back to multipart against a server that does not know them.
 */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { mediaTypes } from '@deltabox/protocol';
import { Scanner } from '@deltabox/scanner';
import { buildServer } from '@deltabox/server';
import { mintToken, tempDir, treeDifferences } from './helpers/harness.js';

/**
 * A server that records the media type of every batch request; with `older` it treats the frames type as the
 * unknown type it is to a server that predates it (Fastify refuses it: 400 BAD_REQUEST, the body read).
 */
async function batchServer(t: Tap.Test, sdir: string, older = false): Promise<{ url: string; batchTypes: string[] }> {
  const app: FastifyInstance = await buildServer({ sdir });
  const batchTypes: string[] = [];
  app.addHook('onRequest', async (request) => {
    if (request.method !== 'POST' || !request.url.startsWith('/v1/batch')) return;
    const type = String(request.headers['content-type']).split(';')[0]!;
    batchTypes.push(type);
    if (older && type === mediaTypes.batchFrames) request.headers['content-type'] = 'application/x-unknown-to-this-server';
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const address = app.server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, batchTypes };
}

/** 300 small files in 3 folders under a new client folder; a scanner syncing it to `url`. */
function smallTree(t: Tap.Test, base: string, sdir: string, url: string) {
  const cdir = join(base, 'client');
  for (let d = 0; d < 3; d++) {
    mkdirSync(join(cdir, `d${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(cdir, `d${d}/f${f}.txt`), `file ${d}/${f}`);
  }
  const scanner = new Scanner({ cdir, server: url, token: mintToken(sdir), watch: false, intervalMs: 600_000, concurrency: 1 });
  t.teardown(() => scanner.stop());
  return { cdir, scanner };
}

t.test('a scanner uploads small new files in frames batches, a fraction of the bytes multipart took', async (t) => {
  const base = tempDir(t);
  const sdir = join(base, 'server');
  const server = await batchServer(t, sdir);
  const { cdir, scanner } = smallTree(t, base, sdir, server.url);
  await scanner.start();
  await scanner.waitForIdle();
  t.same(treeDifferences(cdir, sdir), []);
  t.equal(scanner.summary().uploads, 300);
  t.ok(server.batchTypes.length >= 5, `${server.batchTypes.length} batch requests`);
  t.ok(server.batchTypes.every((type) => type === mediaTypes.batchFrames), 'every batch went as frames');
  const { sentBytes } = scanner.wireTotals();
  // Multipart sends ~440 B a file here (part headers, boundaries, meta JSON); frames ~60 B, every request counted.
  t.ok(sentBytes / 300 < 150, `${(sentBytes / 300).toFixed(0)} B sent per file, every request counted`);
});

t.test('a scanner facing a server older than frames batches sends multipart after the first refusal', async (t) => {
  const base = tempDir(t);
  const sdir = join(base, 'server');
  const server = await batchServer(t, sdir, true);
  const { cdir, scanner } = smallTree(t, base, sdir, server.url);
  await scanner.start();
  await scanner.waitForIdle();
  t.same(treeDifferences(cdir, sdir), [], 'every file arrived');
  t.equal(scanner.summary().uploads, 300);
  t.same(server.batchTypes.slice(0, 2), [mediaTypes.batchFrames, 'multipart/form-data'], 'refused once as frames, then sent again as multipart');
  t.ok(server.batchTypes.length >= 6, `${server.batchTypes.length} batch requests`);
  t.ok(server.batchTypes.slice(1).every((type) => type === 'multipart/form-data'), 'and every later batch as multipart');
});
