import t from 'tap';
import { parseCoreInvocation } from '../src/core-commands/argv.js';

const argv = (...words: string[]) => ['node', 'deltabox', ...words];

t.test('parses the plain forms of signature, delta and patch', async (t) => {
  t.same(parseCoreInvocation(argv('signature', 'a', 'a.sig')), { command: 'signature', operands: ['a', 'a.sig'], flags: {} });
  t.same(parseCoreInvocation(argv('signature', '-b', '512', '--sum-size=4', '-', '-')), {
    command: 'signature', operands: ['-', '-'], flags: { blockSize: 512, sumSize: 4 },
  });
  t.same(parseCoreInvocation(argv('signature', 'a', '--block-size', '64', 'a.sig', '-S', '8')), {
    command: 'signature', operands: ['a', 'a.sig'], flags: { blockSize: 64, sumSize: 8 },
  });
  t.same(parseCoreInvocation(argv('delta', '--basis', 'a', 'a.sig', 'b', 'd')), {
    command: 'delta', operands: ['a.sig', 'b', 'd'], flags: { compress: true, basis: 'a' },
  });
  t.same(parseCoreInvocation(argv('delta', 'a.sig', '-', '-', '--no-compress', '--basis=a')), {
    command: 'delta', operands: ['a.sig', '-', '-'], flags: { compress: false, basis: 'a' },
  });
  t.same(parseCoreInvocation(argv('patch', 'a', 'd', 'out')), { command: 'patch', operands: ['a', 'd', 'out'], flags: {} });
});

t.test('leaves to commander every form it does not take on trust', async (t) => {
  const deferred: string[][] = [
    ['scan', '--cdir', 'x'],
    ['signature', 'a'],
    ['signature', 'a', 'b', 'c'],
    ['signature', '--help', 'a', 'b'],
    ['signature', '-h'],
    ['signature', '--', 'a', 'b'],
    ['signature', '-b512', 'a', 'b'],
    ['signature', '-b', '0', 'a', 'b'],
    ['signature', '-b', '1e3', 'a', 'b'],
    ['signature', '--block-size=', 'a', 'b'],
    ['signature', '-S', '9', 'a', 'b'],
    ['signature', 'a', 'b', '-b'],
    ['signature', '-b', '-1', 'a', 'b'],
    ['signature', '--basis', 'x', 'a', 'b'],
    ['delta', '--basis', '--no-compress', 'a', 'b', 'c'],
    ['delta', '--no-compress=yes', 'a', 'b', 'c'],
    ['delta', '-x', 'a', 'b', 'c'],
    ['patch', '-bx', 'a', 'b', 'c'],
    ['patch', 'a', 'b'],
  ];
  for (const words of deferred) t.equal(parseCoreInvocation(argv(...words)), undefined, words.join(' '));
});
