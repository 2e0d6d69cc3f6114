/** `pnpm test:faults` flags: parsed with node:util parseArgs, bad values refused (issue 9: `--seed abc` became NaN). */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseFaultFlags } from '../src/fault-flags.js';

t.test('flags parse into the run options', async (t) => {
  t.same(parseFaultFlags([]), { quick: false, folderEdits: true });
  t.same(parseFaultFlags(['--', '--quick', '--seed', '61125', '--scenario', 'outage', '--no-folder-edits']),
    { quick: true, folderEdits: false, seed: 61125, scenario: 'outage' });
  t.same(parseFaultFlags(['--seed=0']), { quick: false, folderEdits: true, seed: 0 });
  t.same(parseFaultFlags(['--seed', '4294967295']).seed, 4294967295);
  t.same(parseFaultFlags(['--scenario', 'multi-device', '--trials', '40', '--devices', '16']),
    { quick: false, folderEdits: true, scenario: 'multi-device', trials: 40, devices: 16 });
});

t.test('bad flags and values are refused with one line', async (t) => {
  const refused: Array<[string[], RegExp]> = [
    [['--seed', 'abc'], /--seed must be a whole number from 0 to 4294967295, got 'abc'/],
    [['--seed', '1.5'], /got '1\.5'/],
    [['--seed', '-1'], /--seed/],
    [['--seed', '4294967296'], /got '4294967296'/],
    [['--seed', ''], /got ''/],
    [['--seed'], /--seed/],
    [['--sead', '1'], /Unknown option '--sead'.*usage: pnpm test:faults/],
    [['quick'], /positional argument.*usage/i],
    [['--scenario', ''], /--scenario needs a scenario name/],
    [['--trials', '0'], /--trials must be a whole number from 1 to 10000, got '0'/],
    [['--trials', 'ten'], /--trials must be a whole number/],
    [['--devices', '65'], /--devices must be a whole number from 1 to 64, got '65'/],
  ];
  for (const [args, message] of refused) t.throws(() => parseFaultFlags(args), { name: 'FaultFlagError', message }, args.join(' '));
});

t.test('the runner exits 2 on --seed abc before running anything', async (t) => {
  const runner = fileURLToPath(new URL('../src/run-faults.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import=tsx', '--conditions=deltabox-src', runner, '--seed', 'abc', '--scenario', 'none'], { encoding: 'utf8' });
  t.equal(r.status, 2, r.stderr);
  t.match(r.stderr, /--seed must be a whole number/);
  t.equal(r.stdout, '', 'no run started');
});
