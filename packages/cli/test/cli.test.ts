/** The `scan --once` and `run` commands as a user runs them (child processes, real server). */
import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { buildServer } from '@deltabox/server';
import { join } from 'node:path';
import { listTokens } from '@deltabox/server';
import { mintToken, startServer, tempDir, treeDifferences, treeDigest, waitFor } from './helpers/harness.js';
import { spawnCli } from './helpers/child.js';

t.test('scan --once syncs, prints a summary and exits 0', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(join(cdir, 'sub'), { recursive: true });
  writeFileSync(join(cdir, 'sub/a.txt'), 'hello');
  writeFileSync(join(cdir, 'b.txt'), 'world');
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const tokenFile = join(base, 'token');
  writeFileSync(tokenFile, `${mintToken(sdir)}\n`);
  const child = spawnCli(['scan', '--cdir', cdir, '--server', server.url, '--token-file', tokenFile, '--once']);
  const { code } = await child.exited;
  t.equal(code, 0, child.stderr());
  t.match(child.stdout(), /synced: 3 path\(s\) changed, 10 B of content; wire: .* sent, .* received/);
  t.same(treeDifferences(cdir, sdir), []);

  const json = spawnCli(['scan', '--cdir', cdir, '--server', server.url, '--once', '--json'], { DELTABOX_TOKEN: mintToken(sdir) });
  t.equal((await json.exited).code, 0, json.stderr());
  const last = json.stdout().trim().split('\n').pop()!;
  t.equal(JSON.parse(last).summary.filesChanged, 0, 'nothing to do the second time');
});

t.test('scan --once exits non-zero with one clear line when it cannot sync', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  mkdirSync(cdir);
  const unreachable = spawnCli(['scan', '--cdir', cdir, '--server', 'http://127.0.0.1:1', '--token', 'x', '--once']);
  const r1 = await unreachable.exited;
  t.equal(r1.code, 4, 'unreachable exits 4');
  t.match(unreachable.stderr(), /^deltabox: cannot reach http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*\n$/);

  const sdir = join(base, 'server');
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const badToken = spawnCli(['scan', '--cdir', cdir, '--server', server.url, '--token', 'not-a-token', '--once']);
  const r2 = await badToken.exited;
  t.equal(r2.code, 5, 'bad token exits 5');
  t.match(badToken.stderr(), /^deltabox: .*refused the token.*\n$/);

  const noToken = spawnCli(['scan', '--cdir', cdir, '--server', server.url, '--once'], { DELTABOX_TOKEN: '' });
  t.equal((await noToken.exited).code, 2, 'missing token is a usage error');

  const typo = spawnCli(['scan', '--cdir', join(base, 'clinet'), '--server', server.url, '--token', 'x', '--once']);
  t.equal((await typo.exited).code, 3, 'a missing client folder is refused, not created empty and mirrored');
  t.match(typo.stderr(), /is not an existing folder/);
});

t.test('run serves and scans in one process and reuses its token across restarts', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'dir/client');
  const sdir = join(base, 'dir/server');
  const start = () => spawnCli(['run', '--cdir', cdir, '--sdir', sdir, '--port', '0', '--interval', '1s']);
  const first = start();
  await waitFor(() => first.stderr().includes('Ctrl-C to stop'), `run started (stderr: ${first.stderr()})`, 30_000);
  writeFileSync(join(cdir, 'note.txt'), 'from run');
  await waitFor(() => treeDigest(sdir)['note.txt'] !== undefined, 'note.txt reached the server folder');
  first.proc.kill('SIGINT');
  t.equal((await first.exited).code, 0, `clean exit on Ctrl-C: ${first.stderr()}`);
  const tokens = listTokens(sdir).length;

  const second = start();
  await waitFor(() => second.stderr().includes('Ctrl-C to stop'), 'run restarted', 30_000);
  second.proc.kill('SIGINT');
  t.equal((await second.exited).code, 0);
  t.equal(listTokens(sdir).length, tokens, 'no new token minted on restart');

  const nested = spawnCli(['run', '--cdir', cdir, '--sdir', join(cdir, 'server'), '--port', '0']);
  t.equal((await nested.exited).code, 2, 'a server folder inside the client folder is refused');
});

t.test('scan --ca trusts a self-signed https server; without it the sync is refused', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  writeFileSync(join(cdir, 'secure.txt'), 'over tls');
  const cert = join(base, 'cert.pem');
  const key = join(base, 'key.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key,
      '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  } catch {
    t.skip('openssl is not available');
    return;
  }
  const app = await buildServer({ sdir, logger: false, https: { cert: readFileSync(cert), key: readFileSync(key) } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const address = app.server.address();
  const url = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const token = mintToken(sdir);
  const refused = spawnCli(['scan', '--cdir', cdir, '--server', url, '--token', token, '--once']);
  t.not((await refused.exited).code, 0, 'an untrusted certificate is refused');
  t.match(refused.stderr(), /^deltabox: .*certificate.*\n$/);
  const trusted = spawnCli(['scan', '--cdir', cdir, '--server', url, '--token', token, '--once', '--ca', cert]);
  t.equal((await trusted.exited).code, 0, trusted.stderr());
  t.same(treeDifferences(cdir, sdir), []);
});

t.test('scan --full-uploads sends an edited file whole, and --help documents it', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  const content = Buffer.alloc(300_000);
  for (let i = 0; i < content.length; i++) content[i] = (i * 7919) % 251;
  writeFileSync(join(cdir, 'medium.bin'), content);
  const server = await startServer(sdir);
  t.teardown(() => server.close());
  const env = { DELTABOX_TOKEN: mintToken(sdir) };
  const once = async (...extra: string[]) => {
    const child = spawnCli(['scan', '--cdir', cdir, '--server', server.url, '--once', '--json', ...extra], env);
    t.equal((await child.exited).code, 0, child.stderr());
    return JSON.parse(child.stdout().trim().split('\n').pop()!).summary as { uploads: number; deltas: number; sentBytes: number };
  };
  await once();
  content.write('EDITED', 150_000);
  writeFileSync(join(cdir, 'medium.bin'), content);
  const whole = await once('--full-uploads');
  t.same([whole.uploads, whole.deltas], [1, 0], 'one whole upload, no delta');
  t.ok(whole.sentBytes > 300_000, `the whole file went: ${whole.sentBytes} B sent`);
  t.same(treeDifferences(cdir, sdir), []);
  content.write('AGAIN', 100_000);
  writeFileSync(join(cdir, 'medium.bin'), content);
  const delta = await once();
  t.same([delta.uploads, delta.deltas], [0, 1], 'without the flag the next edit is a delta');
  t.same(treeDifferences(cdir, sdir), []);

  const help = spawnCli(['scan', '--help']);
  await help.exited;
  t.match(help.stdout(), /--full-uploads/);
});

t.test('a command name that is a property of every object is an unknown command, not a crash', async (t) => {
  for (const name of ['constructor', 'toString', '__proto__']) {
    const child = spawnCli([name]);
    const { code } = await child.exited;
    t.equal(code, 2, `${name}: a usage error`);
    t.match(child.stderr(), new RegExp(`unknown command '${name}'`), `${name}: commander says so`);
  }
});
