/**
 * Resumable uploads end to end (issue 13): a real scanner uploads a large file to a real server through a
 * proxy that counts the bytes and cuts the connection at 50%. After a cut link, a server restart or a
 * scanner restart, the upload resumes from the server's acknowledged offset: at most 1.05x the file goes
 * over the wire in total and the result is byte-exact. A file that changed meanwhile abandons its session.
 *
 * The figure for 1 GiB is measured by hand with the same test (the suite runs 64 MiB):
 *   DELTABOX_RESUME_TEST_MIB=1024 npx tap --timeout=3600 --grep='cut at 50%' test/resumable-upload.test.ts
 */
import t from 'tap';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Scanner } from '@deltabox/scanner';
import { CuttingProxy } from './helpers/cutting-proxy.js';
import { mintToken, startServer, tempDir, treeDifferences, waitFor, writeSeededFile, type RunningServer } from './helpers/harness.js';

/** The scanner's threshold for resumable uploads (64 MiB): the smallest file that takes this path. Override only by hand. */
const SIZE = Number(process.env.DELTABOX_RESUME_TEST_MIB ?? 64) * 1024 * 1024;
const BUDGET = 1.05 * SIZE;
/** Deadline of each wait: two minutes per 64 MiB (a loaded CI machine). */
const DEADLINE_MS = 120_000 * Math.max(1, SIZE / (64 * 1024 * 1024));

interface Setup {
  cdir: string;
  sdir: string;
  token: string;
  proxy: CuttingProxy;
  server(): RunningServer;
  restartServer(): Promise<void>;
  scanner(): Scanner;
}

async function setup(t: Parameters<Parameters<typeof t.test>[1]>[0]): Promise<Setup> {
  const base = tempDir(t, 'dbx-resume-');
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  writeSeededFile(join(cdir, 'big.bin'), 13, SIZE);
  let server = await startServer(sdir);
  const proxy = await CuttingProxy.start(server.port);
  const token = mintToken(sdir);
  const scanners: Scanner[] = [];
  t.teardown(async () => {
    for (const s of scanners) await s.stop(0);
    await proxy.close();
    await server.close();
  });
  return {
    cdir,
    sdir,
    token,
    proxy,
    server: () => server,
    restartServer: async () => {
      await server.close();
      server = await startServer(sdir);
      proxy.setUpstream(server.port);
    },
    scanner: () => {
      const s = new Scanner({ cdir, server: proxy.url, token, watch: false, intervalMs: 60_000 });
      scanners.push(s);
      return s;
    },
  };
}

const stagedUploads = (sdir: string): string[] => {
  const dir = join(sdir, '.deltabox', 'uploads');
  return existsSync(dir) ? readdirSync(dir) : [];
};

async function mirrored(t: Parameters<Parameters<typeof t.test>[1]>[0], s: Setup, what: string): Promise<void> {
  // Polls cheaply (hashing both trees on every poll would cost more than the upload), then compares once.
  // The session's staging file goes right after the commit made the file visible: wait for both.
  const committed = (): boolean => statSync(join(s.sdir, 'big.bin'), { throwIfNoEntry: false })?.size === SIZE && stagedUploads(s.sdir).length === 0;
  await waitFor(committed, `${what}: the server to commit the file`, DEADLINE_MS);
  t.same(treeDifferences(s.cdir, s.sdir), [], `${what}: byte-exact`);
  t.same(stagedUploads(s.sdir), [], `${what}: no staged upload left`);
}

t.test('an upload cut at 50% resumes and sends at most 1.05x the file in total', async (t) => {
  const s = await setup(t);
  let cut = false;
  s.proxy.whenSent(SIZE / 2, () => {
    cut = true;
    s.proxy.cutAll();
  });
  await s.scanner().start();
  await mirrored(t, s, 'after the cut');
  t.ok(cut, 'the connection was cut mid-upload');
  t.comment(`${SIZE} bytes, cut at 50%: ${s.proxy.sentBytes} bytes sent in total (${(s.proxy.sentBytes / SIZE).toFixed(4)}x)`);
  t.ok(s.proxy.sentBytes <= BUDGET, `sent ${s.proxy.sentBytes} <= ${BUDGET}`);
});

t.test('a server restarted mid-upload: the upload resumes where the server left off', async (t) => {
  const s = await setup(t);
  let restarted: Promise<void> | undefined;
  s.proxy.whenSent(SIZE / 2, () => {
    s.proxy.setRefusing(true);
    s.proxy.cutAll();
    restarted = s.restartServer().then(() => s.proxy.setRefusing(false));
  });
  await s.scanner().start();
  await waitFor(() => restarted !== undefined, 'the cut at 50%', DEADLINE_MS);
  await restarted;
  await mirrored(t, s, 'after the restart');
  t.comment(`server restart at 50%: ${s.proxy.sentBytes} bytes sent in total (${(s.proxy.sentBytes / SIZE).toFixed(4)}x)`);
  t.ok(s.proxy.sentBytes <= BUDGET, `sent ${s.proxy.sentBytes} <= ${BUDGET}`);
});

/** Starts a scanner, cuts the link at 50% and stops that scanner while the link is down. */
async function stopScannerAtHalf(s: Setup): Promise<void> {
  let cut = false;
  s.proxy.whenSent(SIZE / 2, () => {
    cut = true;
    s.proxy.setRefusing(true);
    s.proxy.cutAll();
  });
  const first = s.scanner();
  await first.start();
  await waitFor(() => cut, 'the cut at 50%', DEADLINE_MS);
  await first.stop(0);
  s.proxy.setRefusing(false);
}

t.test('a scanner restarted mid-upload resumes from the session kept in its state', async (t) => {
  const s = await setup(t);
  await stopScannerAtHalf(s);
  t.equal(stagedUploads(s.sdir).length, 1, 'the server holds the half-done session');
  await s.scanner().start();
  await mirrored(t, s, 'after the scanner restart');
  t.comment(`scanner restart at 50%: ${s.proxy.sentBytes} bytes sent in total (${(s.proxy.sentBytes / SIZE).toFixed(4)}x)`);
  t.ok(s.proxy.sentBytes <= BUDGET, `sent ${s.proxy.sentBytes} <= ${BUDGET}`);
});

t.test('a file changed while its upload was interrupted abandons the session and sends the new version', async (t) => {
  const s = await setup(t);
  await stopScannerAtHalf(s);
  const [stale] = stagedUploads(s.sdir);
  t.ok(stale, 'the server holds the half-done session');
  writeSeededFile(join(s.cdir, 'big.bin'), 14, SIZE); // another version, same size
  await s.scanner().start();
  await mirrored(t, s, 'the new version');
  t.notOk(stagedUploads(s.sdir).includes(stale!), 'the stale session was abandoned on the server');
  t.ok(s.proxy.sentBytes >= SIZE * 1.5, 'the new version went whole: the stale bytes were not reused');
});
