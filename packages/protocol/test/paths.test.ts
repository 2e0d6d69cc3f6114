import t from 'tap';
import fc from 'fast-check';
import { decodePathFromUrl, encodePathForUrl, isValidChildPath, isValidRelativePath, normalizeRelativePath, PathError, STATE_DIR } from '../src/index.js';

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

t.test('isValidChildPath answers as isValidRelativePath for a valid parent and one more segment', async (t) => {
  const pieces = ['a', 'B', '.', '..', '\\', '\u0000', '\u001f', '\u007f', 'con', 'CON', '.txt', 'lpt1', 'lpt\u00b9', 'C:', 'z:', ':', '.deltabox', '.DeltaBox', 'e\u0301', '\u00e9', ' ', 'x'.repeat(100), '\u{1f600}', '~', '#'];
  const segment = fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 4 }).map((p) => p.join('').normalize('NFC'));
  fc.assert(
    fc.property(fc.array(segment, { maxLength: 3 }), segment, fc.integer({ min: 0, max: 40 }), (parents, name, padding) => {
      // Long parents too, to reach the whole-path limit.
      const parent = [...parents, ...(padding > 35 ? Array(17).fill('p'.repeat(240)) : [])].join('/');
      if (parent !== '' && !isValidRelativePath(parent)) return;
      const path = parent === '' ? name : `${parent}/${name}`;
      if (isValidChildPath(parent, path) !== isValidRelativePath(path)) throw new Error(`${JSON.stringify(path)}: child ${isValidChildPath(parent, path)}`);
    }),
    { numRuns: 5000, seed: 22 },
  );
  t.notOk(isValidChildPath('a', 'a/b/c'), 'one segment only');
  t.notOk(isValidChildPath('', STATE_DIR));
  t.ok(isValidChildPath('a', `a/${STATE_DIR}`), 'the state folder name is only refused at the root');
});
