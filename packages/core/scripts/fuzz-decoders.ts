/**
 * Long decoder fuzz run: `pnpm --filter @deltabox/core fuzz [--cases N] [--seed S]` (default 1,000,000 cases).
 * Prints the seed first so any failure can be replayed, then a summary; exits 1 on the first crash.
 */
import { fuzzDecoders } from '../test/helpers/fuzz.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const cases = arg('--cases', 1_000_000);
const seed = arg('--seed', Date.now() % 2 ** 31);
console.log(`decoder fuzz: ${cases} cases from seed ${seed}`);
const started = performance.now();
const rssBefore = process.memoryUsage().rss;
let done = 0;
const batch = 50_000;
const totals: Record<string, number> = {};
let accepted = 0;
while (done < cases) {
  const n = Math.min(batch, cases - done);
  const r = await fuzzDecoders(n, seed + done);
  accepted += r.accepted;
  for (const [k, v] of Object.entries(r.rejected)) totals[k] = (totals[k] ?? 0) + v;
  done += n;
  const rss = process.memoryUsage().rss;
  console.log(`${done} cases, ${((performance.now() - started) / 1000).toFixed(1)} s, RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);
}
console.log(JSON.stringify({ cases, seed, accepted, rejected: totals, seconds: (performance.now() - started) / 1000, rssGrowthMiB: (process.memoryUsage().rss - rssBefore) / 2 ** 20 }));
console.log(`${cases} passed, 0 failed`);
