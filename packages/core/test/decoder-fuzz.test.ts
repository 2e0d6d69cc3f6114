import t from 'tap';
import { fuzzDecoders } from './helpers/fuzz.js';

// The default run takes a slice; scripts/fuzz-decoders.ts runs a million (pnpm --filter @deltabox/core fuzz).
const CASES = Number(process.env.DELTABOX_FUZZ_CASES ?? 5000);

t.test(`${CASES} random and mutated signatures and deltas give a value or a DeltaError`, async (t) => {
  const seed = Number(process.env.DELTABOX_FUZZ_SEED ?? 20261125);
  const report = await fuzzDecoders(CASES, seed);
  t.equal(report.cases, CASES);
  t.ok(Object.keys(report.rejected).length >= 3, `several error codes seen: ${JSON.stringify(report.rejected)}`);
  t.ok(report.accepted > 0, 'some mutations are still valid (e.g. a flipped literal byte is caught only by the hash)');
});
