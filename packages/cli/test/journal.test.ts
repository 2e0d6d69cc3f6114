/**
 * `--once` runs after the first one: the scanner trusts the remote view it stored when the server's journal
 * says nothing changed, catches up from the journal when little did, and still converges when the server
 * was changed behind its back or lost its state.
 */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scanner } from '@deltabox/scanner';
import { mintToken, startServer, tempDir, treeDifferences, type RunningServer } from './helpers/harness.js';

async function setup(t: Tap.Test, files: number) {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  for (let d = 0; d < 10; d++) {
    mkdirSync(join(cdir, `d${d}`));
    for (let f = 0; f < files / 10; f++) writeFileSync(join(cdir, `d${d}/file-${f}.txt`), `content of ${d}/${f}\n`);
  }
  const servers: RunningServer[] = [await startServer(sdir)];
  t.teardown(async () => {
    for (const s of servers) await s.close();
  });
  const token = mintToken(sdir);
  /** One `scan --once` as a separate run would do it: a fresh Scanner on the same folder. */
  const once = async (server = servers[0]!, tok = token) => {
    const scanner = new Scanner({ cdir, server: server.url, token: tok, watch: false, intervalMs: 60_000 });
    try {
      return await scanner.syncOnce();
    } finally {
      await scanner.stop();
    }
  };
  return { base, cdir, sdir, servers, token, once };
}

async function foreign(server: RunningServer, token: string, method: string, path: string, body?: string): Promise<number> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (method === 'POST') headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}/v1/${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  await res.arrayBuffer();
  return res.status;
}

t.test('a run with nothing changed skips the manifest and stays under 10 KB on the wire', async (t) => {
  const { cdir, sdir, once } = await setup(t, 2_000);
  const first = await once();
  t.equal(first.uploads, 2_000);
  t.same(treeDifferences(cdir, sdir), []);
  const second = await once();
  t.equal(second.filesChanged, 0);
  t.ok(second.sentBytes + second.receivedBytes < 10_000, `wire ${second.sentBytes} B sent + ${second.receivedBytes} B received`);
  t.ok(second.requests <= 3, `${second.requests} requests`);
  // The first run's verification already stored its view: its writes are not replayed as someone else's.
  const third = await once();
  t.ok(third.sentBytes + third.receivedBytes < 10_000, `third run: ${third.sentBytes + third.receivedBytes} B`);
});

t.test('changes made on the server between runs are caught up from the journal and undone', async (t) => {
  const { cdir, sdir, servers, token, once } = await setup(t, 1_000);
  await once();
  const server = servers[0]!;
  t.equal(await foreign(server, token, 'PUT', 'files/d1/file-1.txt', 'theirs'), 200);
  t.equal(await foreign(server, token, 'PUT', 'files/d2/extra.txt', 'extra'), 200);
  t.equal(await foreign(server, token, 'DELETE', 'files/d3/file-3.txt'), 204);
  t.equal(await foreign(server, token, 'PUT', 'dirs/made/by/them'), 200);
  t.equal(await foreign(server, token, 'POST', 'moves', JSON.stringify({ from: 'd4/file-4.txt', to: 'd4/moved.txt' })), 200);
  // Same content as the client's, written by someone else: its mtime is the server's now, and is put back.
  t.equal(await foreign(server, token, 'PUT', 'files/d5/file-5.txt', 'content of 5/5\n'), 200);
  t.not(treeDifferences(cdir, sdir), []);
  const summary = await once();
  t.same(treeDifferences(cdir, sdir), [], 'the server mirrors the client again');
  t.ok(summary.receivedBytes < 20_000, `no manifest of 1,000 files: received ${summary.receivedBytes} B`);
});

t.test('a server that lost its state (a lower revision) is compared against its full manifest', async (t) => {
  const { base, cdir, servers, once } = await setup(t, 200);
  await once();
  const port = servers[0]!.port;
  await servers.shift()!.close();
  const fresh = join(base, 'server-2');
  servers.push(await startServer(fresh, port));
  const summary = await once(servers[0]!, mintToken(fresh));
  t.equal(summary.uploads, 200, 'everything sent again');
  t.same(treeDifferences(cdir, fresh), []);
});
