import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createToken, listTokens, revokeToken, isTokenValid, TOKEN_PREFIX, TokenError } from '../src/index.js';
import { startServer, rawRequest, waitFor } from './support/harness.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

t.test('health answers without a token; every other route needs one', async (t) => {
  const h = await startServer(t);
  const health = await rawRequest(h.port, 'GET', '/v1/health');
  t.equal(health.status, 200);
  t.match(health.json(), { ok: true, version: String, revision: 0 });
  for (const [method, path] of [['GET', '/v1/files'], ['GET', '/v1/files/a'], ['PUT', '/v1/files/a'], ['GET', '/v1/changes'], ['POST', '/v1/moves'], ['PUT', '/v1/dirs/d'], ['GET', '/v1/nothing-here']]) {
    const res = await rawRequest(h.port, method!, path!);
    t.equal(res.status, 401, `${method} ${path}`);
    t.equal(res.json().code, 'UNAUTHORIZED');
  }
});

t.test('a missing, malformed, unknown, revoked or expired token is 401', async (t) => {
  const h = await startServer(t);
  const expired = createToken(h.sdir, { name: 'old', expiresAt: Date.now() - 1 });
  const revoked = createToken(h.sdir, { name: 'lost-phone' });
  t.ok(revokeToken(h.sdir, 'lost-phone'));
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['missing', {}, /missing/],
    ['not bearer', { authorization: `Basic ${h.token}` }, /missing|malformed/],
    ['malformed', bearer('hello'), /malformed/],
    ['unknown', bearer(`${TOKEN_PREFIX}${'A'.repeat(43)}`), /unknown/],
    ['one character off', bearer(h.token.slice(0, -1) + (h.token.endsWith('A') ? 'B' : 'A')), /unknown/],
    ['revoked', bearer(revoked), /revoked/],
    ['expired', bearer(expired), /expired/],
  ];
  for (const [what, headers, message] of cases) {
    const res = await rawRequest(h.port, 'GET', '/v1/files', { headers });
    t.equal(res.status, 401, what);
    t.match(res.json(), { code: 'UNAUTHORIZED', message }, what);
  }
  t.equal((await rawRequest(h.port, 'GET', '/v1/files', { headers: bearer(h.token) })).status, 200, 'the valid token works');
});

t.test('a read-only token can read but every write is 403', async (t) => {
  const h = await startServer(t);
  await h.request('PUT', '/v1/files/a.txt', { body: 'x' });
  const ro = bearer(h.readOnlyToken);
  t.equal((await rawRequest(h.port, 'GET', '/v1/files/a.txt', { headers: ro })).status, 200);
  t.equal((await rawRequest(h.port, 'GET', '/v1/files', { headers: ro })).status, 200);
  t.equal((await rawRequest(h.port, 'GET', '/v1/signatures/a.txt', { headers: ro })).status, 200);
  const writes: Array<[string, string]> = [['PUT', '/v1/files/a.txt'], ['PATCH', '/v1/files/a.txt'], ['DELETE', '/v1/files/a.txt'], ['POST', '/v1/moves'], ['PUT', '/v1/dirs/d'], ['DELETE', '/v1/dirs/d'], ['POST', '/v1/batch']];
  for (const [method, path] of writes) {
    const res = await rawRequest(h.port, method, path, { headers: { ...ro, 'content-type': 'application/octet-stream' }, body: 'y' });
    t.equal(res.status, 403, `${method} ${path}`);
    t.equal(res.json().code, 'FORBIDDEN');
  }
  t.equal(readFileSync(join(h.sdir, 'a.txt'), 'utf8'), 'x');
});

t.test('revoking a token takes effect on the running server without a restart', async (t) => {
  const h = await startServer(t);
  const phone = createToken(h.sdir, { name: 'phone' });
  t.equal((await rawRequest(h.port, 'GET', '/v1/files', { headers: bearer(phone) })).status, 200);
  t.ok(revokeToken(h.sdir, 'phone'));
  t.equal((await rawRequest(h.port, 'GET', '/v1/files', { headers: bearer(phone) })).status, 401);
  t.notOk(revokeToken(h.sdir, 'phone'), 'revoking twice reports nothing to revoke');
});

t.test('a token that expires while the server runs is refused from then on', async (t) => {
  const h = await startServer(t);
  const shortLived = createToken(h.sdir, { name: 'temp', expiresAt: Date.now() + 300 });
  t.equal((await rawRequest(h.port, 'GET', '/v1/files', { headers: bearer(shortLived) })).status, 200, 'valid before its expiry');
  await waitFor(async () => (await rawRequest(h.port, 'GET', '/v1/files', { headers: bearer(shortLived) })).status === 401, 'the token to expire');
  t.match((await rawRequest(h.port, 'GET', '/v1/files', { headers: bearer(shortLived) })).json(), { code: 'UNAUTHORIZED', message: /expired/ });
});

t.test('repeated failures from one address are rate limited while valid traffic goes on', async (t) => {
  const h = await startServer(t, { limits: { authFailureMax: 5 } });
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await rawRequest(h.port, 'GET', '/v1/files', { headers: bearer('dbx_wrong') })).status);
  t.same(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
  t.same(statuses.slice(5), [429, 429, 429]);
  const limited = await rawRequest(h.port, 'GET', '/v1/files', { headers: bearer('dbx_wrong') });
  t.equal(limited.json().code, 'RATE_LIMITED');
  for (let i = 0; i < 10; i++) {
    t.equal((await h.request('GET', '/v1/files')).status, 200, 'a valid token is never limited');
  }
  t.equal((await rawRequest(h.port, 'GET', '/v1/health')).status, 200, 'health is never limited');
});

t.test('tokens are stored only as SHA-256, listed without secrets, and names are unique while active', async (t) => {
  const h = await startServer(t);
  const token = createToken(h.sdir, { name: 'laptop', readOnly: true, expiresAt: Date.now() + 60_000 });
  t.match(token, /^dbx_[A-Za-z0-9_-]{43}$/, 'prefix and 32 random bytes in base64url');
  const stateDir = join(h.sdir, '.deltabox');
  for (const file of readdirSync(stateDir).filter((f) => f.startsWith('state.db'))) {
    t.notOk(readFileSync(join(stateDir, file)).includes(token), `${file} does not hold the token`);
  }
  const listed = listTokens(h.sdir).find((x) => x.name === 'laptop');
  t.match(listed, { name: 'laptop', readOnly: true, revoked: false, createdAt: Number, expiresAt: Number });
  t.notOk(JSON.stringify(listTokens(h.sdir)).includes(token));
  t.throws(() => createToken(h.sdir, { name: 'laptop' }), /active token named 'laptop'/);
  t.ok(isTokenValid(h.sdir, token));
  revokeToken(h.sdir, 'laptop');
  t.notOk(isTokenValid(h.sdir, token));
  t.ok(createToken(h.sdir, { name: 'laptop' }), 'the name is free again after revocation');
  await h.request('GET', '/v1/files');
  t.ok(listTokens(h.sdir).find((x) => x.name === 'device')?.lastUsedAt, 'last use is recorded');
});

t.test('an expiry no Date can hold is refused with a typed error and nothing is written', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'dbx-tokens-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  createToken(base, { name: 'first' });
  const farFuture = Date.now() + 99_999_999_999_999 * 604_800_000; // `--expires 99999999999999w`
  for (const expiresAt of [farFuture, Infinity, NaN, -9e15]) {
    const err = (() => {
      try {
        createToken(base, { name: 'forever', expiresAt });
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    t.ok(err instanceof TokenError && err.code === 'INVALID_EXPIRY', `${expiresAt}: INVALID_EXPIRY (${String(err)})`);
  }
  t.same(listTokens(base).map((r) => r.name), ['first'], 'nothing was written');
  t.ok(createToken(base, { name: 'latest', expiresAt: 8.64e15 }), 'the last representable time is fine');
});

t.test('listing survives any stored time, before and after a revoke', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'dbx-tokens-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  createToken(base, { name: 'ok' });
  // Rows as an older server wrote them for `--expires 99999999999999w`, and worse.
  const db = new Database(join(base, '.deltabox', 'state.db'));
  const insert = db.prepare('INSERT INTO tokens (name, hash, created_at, expires_at, read_only) VALUES (?, ?, ?, ?, 0)');
  insert.run('huge', 'a'.repeat(64), Date.now(), 6.048e25);
  insert.run('text', 'b'.repeat(64), Date.now(), 'soon');
  db.close();
  const rows = listTokens(base);
  t.same(rows.map((r) => r.name), ['ok', 'huge', 'text']);
  for (const r of rows) {
    t.doesNotThrow(() => r.expiresAt === undefined || new Date(r.expiresAt).toISOString(), `${r.name}: its expiry prints as a date`);
  }
  t.equal(rows[1]!.expiresAt, 8.64e15, 'past the Date range: clamped to its end');
  t.ok(revokeToken(base, 'huge'));
  t.match(listTokens(base)[1], { name: 'huge', revoked: true, expiresAt: 8.64e15 });
});
