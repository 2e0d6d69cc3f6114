/**
 * Builds (or checks) the real-data pairs of the core benchmark without measuring anything:
 * `node dist/build-real-pairs.js [--data-dir DIR] [--pairs id,id]`. Prints each pair's files, sizes and SHA-256.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR, ensureRealPairs, PAIR_IDS } from './lib/real-pairs.js';
import { parseFlagsOrExit, parseListFlag, runnerArgs } from './lib/flags.js';

const flags = parseFlagsOrExit('build-real-pairs', () => {
  const { values } = parseArgs({ args: runnerArgs(), options: { 'data-dir': { type: 'string', default: DEFAULT_DATA_DIR }, pairs: { type: 'string' } }, strict: true, allowPositionals: false });
  return { dataDir: values['data-dir'], ids: parseListFlag('--pairs', values.pairs, PAIR_IDS) };
});
const { pairs, skipped } = await ensureRealPairs(flags.dataDir, flags.ids, (line) => process.stderr.write(`${line}\n`));
for (const p of pairs) console.log(`${p.id}\t${p.basisBytes} -> ${p.targetBytes} B\t${p.basis}\t${p.target}\t${p.description}`);
for (const p of skipped) console.log(`${p.id}\tNOT BUILT: ${p.reason}`);
if (skipped.length > 0) process.exitCode = 1;
