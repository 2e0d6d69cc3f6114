/**
 * Ctrl-C twice: the first asks for a clean stop, the second quits at once with 130 (issue 9). The server is
 * kept busy by an upload whose body is still arriving, which a clean stop waits for.
 */
import t from 'tap';
import { request } from 'node:http';
import { join } from 'node:path';
import { mintToken, tempDir, waitFor } from './helpers/harness.js';
import { spawnCli } from './helpers/child.js';

t.test('serve: a second Ctrl-C during a clean stop quits at once with 130', async (t) => {
  const base = tempDir(t);
  const sdir = join(base, 'server');
  const token = mintToken(sdir);
  const child = spawnCli(['serve', '--sdir', sdir, '--port', '0']);
  t.teardown(() => {
    if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
  });
  let url = '';
  await waitFor(() => {
    url = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(child.stdout())?.[1] ?? '';
    return url !== '';
  }, `serve listens (stdout: ${child.stdout()} stderr: ${child.stderr()})`, 30_000);

  // An upload whose body is still arriving: a clean stop waits for it.
  const upload = request(`${url}/v1/files/slow.bin`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-length': '1000000', 'content-type': 'application/octet-stream', 'x-deltabox-mtime-ms': '0' },
  });
  upload.on('error', () => {});
  t.teardown(() => upload.destroy());
  upload.write(Buffer.alloc(1000));
  await new Promise((resolve) => upload.once('socket', (s) => s.once('connect', resolve)));
  // The server answers a later request only after it has read the earlier one's headers.
  const health = await fetch(`${url}/v1/health`);
  await health.arrayBuffer();

  child.proc.kill('SIGINT');
  await waitFor(() => child.stdout().includes('shutting down'), `the first Ctrl-C starts a clean stop (stdout: ${child.stdout()})`);
  t.equal(child.proc.exitCode, null, 'the clean stop is still waiting for the upload');
  const sentAt = Date.now();
  child.proc.kill('SIGINT');
  const { code, signal } = await child.exited;
  t.same({ code, signal }, { code: 130, signal: null }, `quit with 130: ${child.stderr()}`);
  t.ok(Date.now() - sentAt < 5000, `at once (${Date.now() - sentAt} ms)`);
  t.match(child.stderr(), /SIGINT again: quitting at once/);
});
