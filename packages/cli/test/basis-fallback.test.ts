/**
 * The server's folder changed behind its back (issue 9, item 3, scanner side): a delta the server refuses
 * because its basis is not what the scanner thought falls back to a fresh signature, then a whole upload;
 * `--once` succeeds instead of blaming the file, and the scanner never calls the server unreachable. Also:
 * a `--once` right after failures retries them instead of reporting the old error. Real server, real
 * scanner (in process, so each run costs no child start-up), real files.
 */
import t from 'tap';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scanner, type Logger } from '@deltabox/scanner';
import { StateStore } from '../../scanner/src/state/state-store.js';
import { mintToken, seededBytes, startServer, tempDir, treeDifferences } from './helpers/harness.js';

/** A logger that keeps every line, to assert on what the user would read. */
function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (details: object, message?: string) => lines.push(`${level} ${message ?? ''} ${JSON.stringify(details)}`);
  return { lines, debug() {}, info: keep('info'), warn: keep('warn'), error: keep('error') };
}

async function syncOnce(cdir: string, url: string, token: string, logger?: Logger) {
  const scanner = new Scanner({ cdir, server: url, token, watch: false, ...(logger ? { logger } : {}) });
  try {
    return await scanner.syncOnce();
  } finally {
    await scanner.stop();
  }
}

t.test('a file edited or deleted in the server folder by hand: the next edit still reaches the server', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'c');
  const sdir = join(base, 's');
  mkdirSync(cdir);
  const original = seededBytes(1, 300 * 1024); // over 64 KiB: a cached basis copy, then a delta
  writeFileSync(join(cdir, 'edited.bin'), original);
  writeFileSync(join(cdir, 'deleted.bin'), seededBytes(2, 300 * 1024));
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const token = mintToken(sdir);
  await syncOnce(cdir, server.url, token);
  t.same(treeDifferences(cdir, sdir), []);

  // Outside the server: one file rewritten, one removed.
  writeFileSync(join(sdir, 'edited.bin'), seededBytes(9, 300 * 1024));
  rmSync(join(sdir, 'deleted.bin'));
  // On the client: a small edit of each, which the scanner sends as a delta against what it last sent.
  const edit = (name: string, seed: number) => {
    const bytes = Buffer.from(seededBytes(seed, 300 * 1024));
    bytes.write('a small edit in the middle', 150 * 1024);
    writeFileSync(join(cdir, name), bytes);
  };
  edit('edited.bin', 1);
  edit('deleted.bin', 2);

  const log = recorder();
  const summary = await syncOnce(cdir, server.url, token, log);
  t.same(treeDifferences(cdir, sdir), [], 'the server mirrors the client again');
  t.equal(summary.pending, 0);
  const said = log.lines.join('\n');
  t.notMatch(said, /changed while it was being sent/, 'no false blame on the file');
  t.notMatch(said, /unreachable/, 'the server was never called unreachable');
});

t.test('--once right after failures retries them instead of reporting the old error', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'c');
  const sdir = join(base, 's');
  mkdirSync(cdir);
  writeFileSync(join(cdir, 'a.txt'), 'hello');
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const token = mintToken(sdir);
  await syncOnce(cdir, server.url, token);
  // What an earlier run leaves when it gave up on a path: attempts used up, a backoff far ahead, its error.
  const store = new StateStore(join(cdir, '.deltabox'));
  store.save({ path: 'a.txt', kind: 'sync', generation: 1, attempts: 5, nextAtMs: Date.now() + 3_600_000, seq: 1, lastError: 'an old failure' });
  store.close();
  const summary = await syncOnce(cdir, server.url, token);
  t.equal(summary.pending, 0, 'retried (and found already in sync), not reported as failing');
});
