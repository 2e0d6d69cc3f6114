/**
 * `pnpm test:faults [-- --quick] [--seed N] [--scenario NAME] [--no-folder-edits] [--trials N] [--devices N]`: the full fault-injection and hostile-input
 * run. Prints the seed first, a summary line per scenario, and exits 1 when any scenario lost or corrupted
 * anything (mismatches) or broke an invariant. Scenarios run one after another (the machine is shared).
 */
import { chooseSeed } from './harness/seeded-random.js';
import { isClean, summaryLine, type ScenarioResult } from './harness/report.js';
import { scenarios } from './scenarios/index.js';
import { FaultFlagError, parseFaultFlags, type FaultFlags } from './fault-flags.js';

let flags: FaultFlags;
try {
  flags = parseFaultFlags(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof FaultFlagError ? err.message : err);
  process.exit(2);
}
const { quick, folderEdits, trials, devices } = flags;
const seed = chooseSeed(flags.seed);
const only = flags.scenario;
const selected = scenarios.filter((s) => !only || s.name === only);
if (selected.length === 0) {
  console.error(`unknown scenario '${only}'; known: ${scenarios.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
console.log(`deltabox fault run: seed ${seed}, ${quick ? 'quick' : 'full'}, scenarios ${selected.map((s) => s.name).join(', ')}`);
console.log(
  `replay: pnpm test:faults -- --seed ${seed}${quick ? ' --quick' : ''}${only ? ` --scenario ${only}` : ''}${folderEdits ? '' : ' --no-folder-edits'}` +
    `${trials === undefined ? '' : ` --trials ${trials}`}${devices === undefined ? '' : ` --devices ${devices}`}`,
);

const results: ScenarioResult[] = [];
for (const s of selected) {
  console.log(`--- ${s.name}: ${s.description}`);
  const r = await s.run({ seed, quick, folderEdits, ...(trials === undefined ? {} : { trials }), ...(devices === undefined ? {} : { devices }), log: (line) => console.log(line) });
  for (const n of r.notes) console.log(`  note: ${n}`);
  for (const b of r.bugs) console.log(`  bug: ${b}`);
  for (const f of r.failures) console.log(`  FAILURE: ${f}`);
  console.log(summaryLine(r));
  results.push(r);
}
console.log('=== summary');
for (const r of results) console.log(summaryLine(r));
process.exitCode = results.every(isClean) ? 0 : 1;
