/** keep(versions, now, policy): the pure retention function, with a fake clock (plain numbers). */
import t from 'tap';
import fc from 'fast-check';
import { DEFAULT_RETENTION, keep, type RetainedVersion } from '../src/history/retention.js';

const H = 3_600_000;
const D = 24 * H;
const NOW = Date.UTC(2026, 5, 1);
const v = (id: number, ageMs: number, path = 'f', size = 10, hash = `h${id}`): RetainedVersion => ({ id, path, hash, size, timeMs: NOW - ageMs });

t.test('staggered: all for a day, newest per day for 30 days, newest per week for a year, none after', async (t) => {
  const versions = [
    v(1, 1 * H), v(2, 20 * H), // within a day: both
    v(3, 2 * D + 1 * H), v(4, 2 * D + 5 * H), // same day slot: the newer (3) stays
    v(5, 3 * D + 1 * H),
    v(6, 40 * D), v(7, 41 * D), // week slot 5 (35..41 days): the newer (6)
    v(8, 50 * D),
    v(9, 366 * D), // past a year
  ];
  t.same([...keep(versions, NOW, DEFAULT_RETENTION)].sort((a, b) => a - b), [1, 2, 3, 5, 6, 8]);
});

t.test('slots are per path', async (t) => {
  t.same([...keep([v(1, 2 * D, 'a'), v(2, 2 * D + H, 'b')], NOW, DEFAULT_RETENTION)].sort(), [1, 2]);
});

t.test('the size cap keeps the newest that fit and counts shared content once', async (t) => {
  const policy = { ...DEFAULT_RETENTION, maxBytes: 25 };
  t.same([...keep([v(1, H, 'a', 10, 'x'), v(2, 2 * H, 'b', 10, 'x'), v(3, 3 * H, 'c', 10, 'y'), v(4, 4 * H, 'd', 10, 'z')], NOW, policy)].sort(), [1, 2, 3]);
});

t.test('properties: kept is a subset, deterministic, and never drops a version younger than allMs under no cap', async (t) => {
  const arb = fc.array(fc.record({ id: fc.nat(), path: fc.constantFrom('a', 'b', 'c'), hash: fc.constantFrom('x', 'y', 'z', 'w'), size: fc.nat(1000), timeMs: fc.integer({ min: NOW - 400 * D, max: NOW }) }), { maxLength: 60 });
  fc.assert(
    fc.property(arb, (raw) => {
      const versions = raw.map((r, i) => ({ ...r, id: i + 1 }));
      const policy = { ...DEFAULT_RETENTION, maxBytes: Infinity };
      const kept = keep(versions, NOW, policy);
      const again = keep([...versions].reverse(), NOW, policy);
      return [...kept].every((id) => versions.some((x) => x.id === id)) &&
        [...kept].sort().join() === [...again].sort().join() &&
        versions.filter((x) => NOW - x.timeMs < policy.allMs).every((x) => kept.has(x.id));
    }),
  );
});
