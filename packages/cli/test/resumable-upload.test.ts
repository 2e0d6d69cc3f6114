/**
 * Resumable uploads end to end (issue 13): a real scanner uploads a large file to a real server through a
 * proxy that counts the bytes and cuts the connection at 50%. After a cut link, a server restart or a
 * scanner restart, the upload resumes from the server's acknowledged offset: at most 1.05x the file goes
 * over the wire in total and the result is byte-exact. A file that changed meanwhile abandons its session.
 * A large delta (64 MiB and more) goes through a delta session and resumes the same way.
 *
 * The figure for 1 GiB is measured by hand with the same test (the suite runs 64 MiB):
 *   DELTABOX_RESUME_TEST_MIB=1024 npx tap --timeout=3600 --grep='cut at 50%' test/resumable-upload.test.ts
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Scanner } from '@deltabox/scanner';
import { CuttingProxy } from './helpers/cutting-proxy.js';
import { mintToken, seededBytes, startServer, tempDir, treeDifferences, waitFor, writeSeededFile, type RunningServer } from './helpers/harness.js';

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

async function setup(t: Parameters<Parameters<typeof t.test>[1]>[0], size = SIZE): Promise<Setup> {
  const base = tempDir(t, 'dbx-resume-');
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  writeSeededFile(join(cdir, 'big.bin'), 13, size);
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

async function mirrored(t: Parameters<Parameters<typeof t.test>[1]>[0], s: Setup, what: string, size = SIZE): Promise<void> {
  // Polls cheaply (hashing both trees on every poll would cost more than the upload), then compares once.
  // The session's staging file goes right after the commit made the file visible: wait for both.
  const committed = (): boolean => statSync(join(s.sdir, 'big.bin'), { throwIfNoEntry: false })?.size === size && stagedUploads(s.sdir).length === 0;
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

async function sha256Of(file: string): Promise<string> {
  const hasher = createHash('sha256');
  for await (const chunk of createReadStream(file)) hasher.update(chunk as Buffer);
  return hasher.digest('hex');
}

t.test('a delta of 64 MiB and more goes as a delta session; cut at 50% it resumes and sends at most 1.05x the delta', async (t) => {
  // A file of 2x SIZE with 1.25x SIZE rewritten from its first quarter on: a delta just over SIZE (the
  // threshold; the seeded bytes' literals compress by about 12%) and well under 75% of the file.
  const fileBytes = 2 * SIZE;
  const s = await setup(t, fileBytes);
  const first = s.scanner();
  await first.start();
  await mirrored(t, s, 'the first version', fileBytes);
  await first.stop(0);
  const big = join(s.cdir, 'big.bin');
  const fd = openSync(big, 'r+');
  for (let off = fileBytes / 4, n = 0; off < fileBytes / 4 + 1.25 * SIZE; off += 8 * 1024 * 1024, n++) writeSync(fd, seededBytes(900 + n, 8 * 1024 * 1024), 0, 8 * 1024 * 1024, off);
  closeSync(fd);
  const want = await sha256Of(big);
  const before = s.proxy.sentBytes;
  let cut = false;
  s.proxy.whenSent(before + SIZE / 2, () => {
    cut = true;
    s.proxy.setRefusing(true); // the link stays down while the test asks the server about the session
    s.proxy.cutAll();
  });
  await s.scanner().start();
  await waitFor(() => cut, 'the cut at 50% of the delta', DEADLINE_MS);
  const [id] = stagedUploads(s.sdir);
  const token = s.token;
  const head = await fetch(`${s.server().url}/v1/uploads/${id}`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } });
  t.equal(head.status, 200, 'the server holds the half-done delta session');
  const deltaBytes = Number(head.headers.get('upload-length'));
  s.proxy.setRefusing(false);
  await waitFor(async () => {
    const res = await fetch(`${s.server().url}/v1/history/big.bin`, { headers: { authorization: `Bearer ${token}` } });
    return ((await res.json()) as { current?: { hash: string } }).current?.hash === want && stagedUploads(s.sdir).length === 0;
  }, 'the server to commit the edited version', DEADLINE_MS);
  t.same(treeDifferences(s.cdir, s.sdir), [], 'byte-exact');
  t.ok(deltaBytes >= SIZE, `the delta (${deltaBytes} bytes) went through a delta session, cut at 50%`);
  t.ok(deltaBytes < 0.75 * fileBytes, 'and is a delta, not the whole file');
  const sent = s.proxy.sentBytes - before;
  t.comment(`delta of ${deltaBytes} bytes for a ${fileBytes}-byte file, cut at 50%: ${sent} bytes sent in total (${(sent / deltaBytes).toFixed(4)}x the delta)`);
  t.ok(sent <= 1.05 * deltaBytes, `sent ${sent} <= 1.05 x ${deltaBytes}`);
});
