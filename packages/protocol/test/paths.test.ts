import t from 'tap';
import fc from 'fast-check';
import { decodePathFromUrl, encodePathForUrl, isValidRelativePath, normalizeRelativePath, PathError, STATE_DIR } from '../src/index.js';

t.test('accepts ordinary relative paths and returns them in NFC', async (t) => {
  for (const p of ['a', 'a/b/c.txt', 'with space/file name.md', 'ünïcödé/日本語.txt', '.hidden', 'a/.deltaboxx', 'x/.deltabox', 'file.', 'a..b']) {
    t.equal(normalizeRelativePath(p), p.normalize('NFC'), p);
  }
  const nfd = 'Cafe\u0301.txt';
  t.equal(normalizeRelativePath(nfd), 'Caf\u00e9.txt', 'NFD input comes back NFC');
});

t.test('rejects every path that could escape the root or hit the state folder', async (t) => {
  const hostile = [
    '', '/etc/passwd', '../x', 'a/../../x', 'a/..', './a', 'a/./b', 'a//b', 'a/', 'a\\b', '..\\x', 'C:/x', 'c:x',
    'a\u0000b', 'a\nb', 'a\u007fb', STATE_DIR, `${STATE_DIR}/tokens.db`, '.DeltaBox/x', 'CON', 'nul.txt', 'a/COM1',
    'lpt9', 'x'.repeat(256), `${'a/'.repeat(2100)}b`,
  ];
  for (const p of hostile) {
    t.throws(() => normalizeRelativePath(p), PathError, JSON.stringify(p.slice(0, 40)));
    t.notOk(isValidRelativePath(p));
  }
  const err = (() => {
    try {
      normalizeRelativePath('../x');
    } catch (e) {
      return e as PathError;
    }
  })();
  t.equal(err?.code, 'BAD_PATH');
});

t.test('URL encoding round-trips any valid path, and an encoded slash is refused', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 5 }), (segments) => {
        const path = segments.join('/');
        if (!isValidRelativePath(path)) return true;
        return decodePathFromUrl(encodePathForUrl(path)) === path;
      }),
      { numRuns: 500 },
    ),
  );
  t.equal(encodePathForUrl('a b/c?d#e'), 'a%20b/c%3Fd%23e');
  t.throws(() => decodePathFromUrl('a%2Fb'), PathError, 'encoded slash');
  t.throws(() => decodePathFromUrl('a%E0%A4%A'), PathError, 'malformed percent-encoding');
  t.throws(() => normalizeRelativePath(decodePathFromUrl('%2e%2e/x')), PathError, 'encoded dot-dot decodes to a refused path');
});
