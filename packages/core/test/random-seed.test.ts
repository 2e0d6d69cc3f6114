import t from 'tap';
import { randomSeed } from '../src/strong-hash.js';
import { SignatureBuilder } from '../src/index.js';

t.test('seeds drawn from the pool are all different, across many refills, and signatures get their own', async (t) => {
  const seeds = new Set<bigint>();
  for (let i = 0; i < 5_000; i++) seeds.add(randomSeed()); // ~10 refills of the 512-seed pool
  t.equal(seeds.size, 5_000, 'no seed repeats');
  const highBits = new Set([...seeds].map((s) => s >> 60n));
  t.equal(highBits.size, 16, 'the top bits take every value: the bytes are random, not a counter');
  const sigSeeds = new Set(Array.from({ length: 100 }, () => new SignatureBuilder({ basisLength: 10 }).finish().seed));
  t.equal(sigSeeds.size, 100, 'each signature its own seed');
});
