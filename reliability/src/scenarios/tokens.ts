/**
 * Tokens against a real server process with its pino log captured to a file: revoked and expired tokens
 * fail on the very next request, a read-only token can read but not write (folder unchanged), brute
 * force is rate limited (429 with retry-after), and no token - valid, revoked, expired, read-only or
 * guessed - appears in the server log or in any answer body.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createToken, revokeToken } from '@deltabox/server';
import { Rig } from '../harness/rig.js';
import { SeededRandom } from '../harness/seeded-random.js';
import { waitFor } from '../harness/poll.js';
import { folderHash } from '../harness/tree-digest.js';
import { rawRequest, type RawResponse } from '../harness/raw-http.js';
import { describeError, newResult, type ScenarioResult } from '../harness/report.js';

export async function tokens(o: { seed: number; log?: (line: string) => void }): Promise<ScenarioResult> {
  const started = Date.now();
  const result = newResult('tokens', o.seed);
  const rng = new SeededRandom(o.seed);
  const rig = new Rig({ label: 'tokens' });
  const bodies: string[] = [];
  const used: string[] = [rig.token];
  const check = (what: string, ok: boolean, detail: string): void => {
    result.trials++;
    if (!ok) result.failures.push(`${what}: ${detail}`);
  };
  try {
    const server = await rig.startServer();
    const call = async (token: string | undefined, method: string, target: string, body?: string, extra: Array<[string, string]> = []): Promise<RawResponse> => {
      const headers: Array<[string, string]> = [...extra];
      if (token !== undefined) headers.push(['authorization', `Bearer ${token}`]);
      if (body !== undefined) headers.push(['content-length', String(Buffer.byteLength(body))]);
      const res = await rawRequest(server.port, { method, target, headers, ...(body === undefined ? {} : { body }) });
      bodies.push(res.raw.toString('latin1'));
      return res;
    };
    const put = await call(rig.token, 'PUT', '/v1/files/kept.txt', 'kept');
    check('a read-write token writes', put.status === 200, `PUT answered ${put.status}`);

    // Revocation applies to the next request.
    const revocable = createToken(rig.sdir, { name: 'revocable' });
    used.push(revocable);
    const beforeRevoke = await call(revocable, 'GET', '/v1/files/kept.txt');
    check('a fresh token reads', beforeRevoke.status === 200, `GET answered ${beforeRevoke.status}`);
    revokeToken(rig.sdir, 'revocable');
    const afterRevoke = await call(revocable, 'GET', '/v1/files/kept.txt');
    check('a revoked token fails on the next request', afterRevoke.status === 401 && afterRevoke.body.toString().includes('revoked'), `${afterRevoke.status} ${afterRevoke.body}`);

    // Expiry: already expired fails at once; one that expires during the run fails on the first request after.
    const expired = createToken(rig.sdir, { name: 'expired', expiresAt: Date.now() - 1 });
    used.push(expired);
    const e1 = await call(expired, 'GET', '/v1/files/kept.txt');
    check('an expired token fails', e1.status === 401 && e1.body.toString().includes('expired'), `${e1.status} ${e1.body}`);
    const expiresAt = Date.now() + 1_500;
    const expiring = createToken(rig.sdir, { name: 'expiring', expiresAt });
    used.push(expiring);
    const e2 = await call(expiring, 'GET', '/v1/files/kept.txt');
    check('a token works until it expires', e2.status === 200, `${e2.status}`);
    await waitFor(() => Date.now() > expiresAt, 'the expiry time passes', { timeoutMs: 5_000 });
    const e3 = await call(expiring, 'GET', '/v1/files/kept.txt');
    check('a token fails on the first request after its expiry', e3.status === 401, `${e3.status} ${e3.body}`);

    // Read-only: every read works, every write is 403 and changes nothing.
    const readOnly = createToken(rig.sdir, { name: 'read-only', readOnly: true });
    used.push(readOnly);
    const folderBefore = folderHash(rig.sdir);
    for (const target of ['/v1/files', '/v1/files/kept.txt', '/v1/signatures/kept.txt', '/v1/changes?since=0']) {
      const r = await call(readOnly, 'GET', target);
      check(`a read-only token reads ${target}`, r.status === 200, `${r.status}`);
    }
    const moveBody = JSON.stringify({ from: 'kept.txt', to: 'moved.txt' });
    const writes: Array<[string, string, string | undefined, Array<[string, string]>]> = [
      ['PUT', '/v1/files/ro.txt', 'nope', []],
      ['PATCH', '/v1/files/kept.txt', 'nope', [['content-type', 'application/vnd.deltabox.delta'], ['if-match', '"x"']]],
      ['DELETE', '/v1/files/kept.txt', undefined, []],
      ['PUT', '/v1/dirs/ro-dir', undefined, []],
      ['DELETE', '/v1/dirs/ro-dir', undefined, []],
      ['POST', '/v1/moves', moveBody, [['content-type', 'application/json']]],
      ['POST', '/v1/batch', '--b--\r\n', [['content-type', 'multipart/form-data; boundary=b']]],
    ];
    for (const [method, target, body, extra] of writes) {
      const r = await call(readOnly, method, target, body, extra);
      check(`a read-only token cannot ${method} ${target}`, r.status === 403 && r.body.toString().includes('FORBIDDEN'), `${r.status} ${r.body}`);
    }
    check('the read-only token changed nothing', folderHash(rig.sdir) === folderBefore, 'the folder changed');

    // Brute force from one address: limited after 20 failures a minute.
    let firstLimited = 0;
    let retryAfter = '';
    const guesses = 40;
    for (let i = 1; i <= guesses; i++) {
      const guess = `dbx_${randomBytes(32).toString('base64url')}`;
      used.push(guess);
      const r = await call(guess, 'GET', '/v1/files');
      result.faults++;
      if (r.status === 429 && firstLimited === 0) {
        firstLimited = i;
        retryAfter = r.headers['retry-after'] ?? '';
      }
      if (firstLimited > 0 && r.status !== 429) result.failures.push(`guess ${i} after the limit answered ${r.status}`);
    }
    check('brute force is rate limited by the 21st failure', firstLimited > 0 && firstLimited <= 21, `first 429 at guess ${firstLimited}`);
    check('the 429 says when to retry', retryAfter !== '', 'no retry-after header');
    const valid = await call(rig.token, 'GET', '/v1/files/kept.txt');
    result.notes.push(`after the limit a valid token still reads: ${valid.status}`);

    // No token anywhere in the log or in an answer (the log is flushed line by line by pino's destination).
    await rig.server!.stop();
    const log = readFileSync(rig.logFile, 'utf8');
    const secrets = used.flatMap((t) => [t, t.slice(4)]);
    const inLog = secrets.filter((s) => log.includes(s));
    const inBodies = secrets.filter((s) => bodies.some((b) => b.includes(s)));
    check('no token appears in the server log', inLog.length === 0, `${inLog.length} token(s) found in ${rig.logFile}`);
    check('no token appears in an answer', inBodies.length === 0, `${inBodies.length} token(s) echoed`);
    result.filesChecked = used.length;
    result.notes.push(
      `${used.length} tokens checked against ${log.split('\n').length - 1} log lines and ${bodies.length} answers; first 429 at guess ${firstLimited} (retry-after ${retryAfter}); seed ${rng.seed}`,
    );
  } catch (err) {
    result.failures.push(`aborted: ${describeError(err)}`);
  } finally {
    await rig.close();
    result.elapsedMs = Date.now() - started;
  }
  return result;
}
