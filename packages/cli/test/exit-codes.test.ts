/**
 * The confusing failures of issue 9, each as a user meets it (child processes, real servers): the exit code
 * from exit-codes.ts and one line that says what to do.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildServer } from '@deltabox/server';
import { ScannerError } from '@deltabox/scanner';
import { EXIT, exitCodeFor } from '../src/exit-codes.js';
import { mintToken, tempDir } from './helpers/harness.js';
import { spawnCli } from './helpers/child.js';

/** A self-signed certificate for 127.0.0.1 and its key, or undefined when openssl is missing. */
function selfSigned(dir: string, name: string): { cert: string; key: string } | undefined {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key,
      '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return { cert, key };
}

async function outcome(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawnCli(args, env);
  const { code } = await child.exited;
  return { code, stderr: child.stderr() };
}

t.test('an untrusted TLS certificate is exit 4 with a hint to use --ca; a --ca that is not PEM is refused', async (t) => {
  const base = tempDir(t);
  const tls = selfSigned(base, 'server');
  if (!tls) return t.skip('openssl is not available');
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  const app = await buildServer({ sdir, logger: false, https: { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const address = app.server.address();
  const url = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const scan = ['scan', '--cdir', cdir, '--server', url, '--token', mintToken(sdir), '--once'];

  const untrusted = await outcome(scan);
  t.equal(untrusted.code, EXIT.unreachable, untrusted.stderr);
  t.match(untrusted.stderr, /^deltabox: https:\/\/127\.0\.0\.1:\d+: the server's TLS certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\); pass --ca FILE.*\n$/);

  const notPem = join(base, 'not-pem.txt');
  writeFileSync(notPem, 'this is not a certificate\n');
  const garbage = await outcome([...scan, '--ca', notPem]);
  t.equal(garbage.code, EXIT.badInput, garbage.stderr);
  t.match(garbage.stderr, /^deltabox: --ca .*not-pem\.txt holds no PEM certificate .*\n$/);
  const key = await outcome([...scan, '--ca', tls.key]);
  t.equal(key.code, EXIT.badInput, key.stderr);
  t.match(key.stderr, /holds a private key, not a certificate/);
});

t.test('serve refuses swapped, mismatched or missing TLS files with one clear line', async (t) => {
  const base = tempDir(t);
  const a = selfSigned(base, 'a');
  const b = selfSigned(base, 'b');
  if (!a || !b) return t.skip('openssl is not available');
  const serve = (cert: string, key: string) => outcome(['serve', '--sdir', join(base, 'server'), '--port', '0', '--tls-cert', cert, '--tls-key', key]);
  const swapped = await serve(a.key, a.cert);
  t.equal(swapped.code, EXIT.badInput, swapped.stderr);
  t.match(swapped.stderr, /^deltabox: --tls-cert .*a-key\.pem holds a private key and --tls-key .*a-cert\.pem a certificate: swap them\n$/);
  const mismatched = await serve(a.cert, b.key);
  t.equal(mismatched.code, EXIT.badInput, mismatched.stderr);
  t.match(mismatched.stderr, /--tls-key .*b-key\.pem is not the private key of the certificate in --tls-cert/);
  const missing = await serve(a.cert, join(base, 'nope.pem'));
  t.equal(missing.code, EXIT.badInput);
  t.match(missing.stderr, /^deltabox: cannot read --tls-key .*nope\.pem: ENOENT/);
});

t.test('a --server that is not an http(s) URL is a usage error with a hint', async (t) => {
  const cdir = tempDir(t);
  const noScheme = await outcome(['scan', '--cdir', cdir, '--server', '127.0.0.1:7070', '--token', 'x', '--once']);
  t.equal(noScheme.code, EXIT.usage, noScheme.stderr);
  t.match(noScheme.stderr, /^deltabox: --server '127\.0\.0\.1:7070' is not an http\(s\) URL .*\(add the scheme: http:\/\/127\.0\.0\.1:7070\)\n$/);
  const ftp = await outcome(['scan', '--cdir', cdir, '--server', 'ftp://127.0.0.1:7070', '--token', 'x', '--once']);
  t.equal(ftp.code, EXIT.usage, ftp.stderr);
  t.match(ftp.stderr, /only http:\/\/ and https:\/\/ are served/);
});

t.test('a 429 during a bad-token storm is exit 5, like other authentication failures', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  const sdir = join(base, 'server');
  mkdirSync(cdir);
  const app = await buildServer({ sdir, logger: false, limits: { authFailureMax: 1 } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  for (let i = 0; i < 3; i++) await fetch(`${url}/v1/files`, { headers: { authorization: 'Bearer wrong' } }).then((r) => r.arrayBuffer());
  const limited = await fetch(`${url}/v1/files`, { headers: { authorization: 'Bearer wrong' } });
  await limited.arrayBuffer();
  t.equal(limited.status, 429, 'the server is rate-limiting this address');
  const storm = await outcome(['scan', '--cdir', cdir, '--server', url, '--token', 'wrong', '--once']);
  t.equal(storm.code, EXIT.auth, storm.stderr);
  t.match(storm.stderr, /^deltabox: http:\/\/127\.0\.0\.1:\d+: .*\n$/);

  const coded = new ScannerError('HTTP', 'health check: 429 RATE_LIMITED', { status: 429, apiCode: 'RATE_LIMITED' });
  t.equal(exitCodeFor(coded), EXIT.auth, 'a ScannerError with apiCode RATE_LIMITED');
  t.equal(exitCodeFor(Object.assign(new Error('x'), { code: 'RATE_LIMITED' })), EXIT.auth, 'an error coded RATE_LIMITED');
});
