import t from 'tap';
import fc from 'fast-check';
import { weakSum, roll, createRoller } from '../src/index.js';
import { RK_MULT, rkPow } from '../src/rolling.js';
import { seededBytes } from './helpers/bytes.js';

/** Independent reference: the definition, in BigInt arithmetic mod 2^32. */
function reference(bytes: Uint8Array): number {
  let h = 0n;
  for (const b of bytes) h = (h * BigInt(RK_MULT) + BigInt(b) + 1n) % 2n ** 32n;
  return Number(h);
}

t.test('weak sum known answers', async (t) => {
  const cases: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['one zero byte', Uint8Array.of(0)],
    ['one 0xff byte', Uint8Array.of(0xff)],
    ['seven bytes (below one unrolled step)', seededBytes(7, 1)],
    ['eight bytes (one unrolled step)', seededBytes(8, 2)],
    ['nine bytes', seededBytes(9, 3)],
    ['4 KiB of zeros', new Uint8Array(4096)],
    ['4 KiB of 0xff', new Uint8Array(4096).fill(0xff)],
    ['random 1000 bytes', seededBytes(1000, 4)],
  ];
  for (const [name, bytes] of cases) t.equal(weakSum(bytes, 0, bytes.length), reference(bytes), name);
  // Pinned values: a change to the weak sum breaks every stored signature, so it must be deliberate.
  t.equal(weakSum(new Uint8Array(0), 0, 0), 0, 'empty is 0');
  t.equal(weakSum(Uint8Array.of(0), 0, 1), 1, 'one zero byte is 1 (the +1 adjustment)');
  t.equal(weakSum(Uint8Array.of(1, 2), 0, 2), (2 * RK_MULT + 3) >>> 0, 'two bytes');
});

t.test('weak sum of a sub-range equals the sum of a copy of it', async (t) => {
  const b = seededBytes(300, 9);
  t.equal(weakSum(b, 17, 200), reference(b.subarray(17, 217)));
});

t.test('rkPow is repeated multiplication', async (t) => {
  let p = 1;
  for (let n = 0; n < 40; n++) {
    t.equal(rkPow(n), p | 0, `M^${n}`);
    p = Math.imul(p, RK_MULT);
  }
});

t.test('rolling one byte equals recomputing the window', async (t) => {
  t.doesNotThrow(() => fc.assert(
    fc.property(fc.uint8Array({ minLength: 2, maxLength: 600 }), fc.integer({ min: 1, max: 300 }), (bytes, w) => {
      const window = Math.min(w, bytes.length - 1);
      const r = createRoller(window);
      let h = weakSum(bytes, 0, window);
      for (let p = 0; p + window < bytes.length; p++) {
        h = roll(r, h, bytes[p]!, bytes[p + window]!);
        if (h !== weakSum(bytes, p + 1, window)) return false;
      }
      return true;
    }),
    { numRuns: 200 },
  ));
});
