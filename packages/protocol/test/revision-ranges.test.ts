import t from 'tap';
import fc from 'fast-check';
import { formatRevisionRanges, MAX_RECORDED_REVISIONS, parseRevisionRanges } from '../src/index.js';

t.test('recorded revisions as ranges: formatted compactly, parsed back exactly', async (t) => {
  t.equal(formatRevisionRanges([]), 'none');
  t.equal(formatRevisionRanges([7]), '7');
  t.equal(formatRevisionRanges([15, 12, 13, 14, 18, 18]), '12-15,18');
  t.same(parseRevisionRanges('none'), []);
  t.same(parseRevisionRanges(' 12-15, 18 '), [12, 13, 14, 15, 18]);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 5_000 }), { maxLength: 300 }), (revs) => {
      const sorted = [...revs].sort((a, b) => a - b);
      t.same(parseRevisionRanges(formatRevisionRanges(revs)), sorted);
    }),
    { numRuns: 200 },
  );
});

t.test('a malformed or oversized value tells nothing (undefined), never a partial list', async (t) => {
  for (const bad of ['', 'x', '1-', '-1', '5-3', '1,,2', '1.5', '12 13', `1-${MAX_RECORDED_REVISIONS + 1}`, '9999999999999999']) {
    t.equal(parseRevisionRanges(bad), undefined, JSON.stringify(bad));
  }
  t.equal(parseRevisionRanges(`1-${MAX_RECORDED_REVISIONS}`)?.length, MAX_RECORDED_REVISIONS);
});
