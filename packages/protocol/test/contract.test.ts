import t from 'tap';
import { errorCatalogue, formatEtag, parseEtag, routes, statusOf } from '../src/index.js';

t.test('every error code has a 4xx or 5xx status and a description', async (t) => {
  for (const [code, entry] of Object.entries(errorCatalogue)) {
    t.ok(entry.status >= 400 && entry.status < 600, code);
    t.ok(entry.description.length > 10, `${code} is described`);
  }
  t.equal(statusOf('BASE_MISMATCH'), 412, 'a stale base is a failed precondition');
  t.equal(statusOf('PARENT_CHANGED'), 412);
  t.equal(statusOf('ALREADY_EXISTS'), 409);
  t.equal(statusOf('HASH_MISMATCH'), 422);
});

t.test('entity tags quote hashes and read back quoted, bare and weak forms', async (t) => {
  const h = 'ab'.repeat(32);
  t.equal(formatEtag(h), `"${h}"`);
  t.equal(parseEtag(formatEtag(h)), h);
  t.equal(parseEtag(h), h);
  t.equal(parseEtag(`W/"${h}"`), h);
  t.equal(parseEtag([`"${h}"`]), h);
  t.equal(parseEtag(undefined), undefined);
  t.equal(parseEtag(''), undefined);
});

t.test('routes encode paths segment by segment under /v1', async (t) => {
  t.equal(routes.file('a b/c.txt'), '/v1/files/a%20b/c.txt');
  t.equal(routes.signature('x'), '/v1/signatures/x');
  t.equal(routes.dir('d/e'), '/v1/dirs/d/e');
  t.equal(routes.delta('a b/c.txt'), '/v1/deltas/a%20b/c.txt');
});
