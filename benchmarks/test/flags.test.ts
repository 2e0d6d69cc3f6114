/**
 * The runners' flags (issue 9: `--seed abc` became NaN): values are validated, and each runner stops at once with
 * exit 2 and a one-line message on a flag it cannot use, before it builds, writes or measures anything.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { FlagError, parseIntegerFlag, parseListFlag } from '../src/lib/flags.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
/** A runner that got past its flags would start building or measuring: allow start-up, not that. */
const DEADLINE_MS = 30_000;

t.test('parseIntegerFlag takes whole numbers in bounds only', async (t) => {
  t.equal(parseIntegerFlag('--runs', '3', 1), 3);
  t.equal(parseIntegerFlag('--runs', undefined, 1), undefined);
  for (const bad of ['abc', '1.5', '1e3', '0x10', '', ' ', 'NaN', 'Infinity']) {
    t.throws(() => parseIntegerFlag('--runs', bad, 1), FlagError, `rejects ${JSON.stringify(bad)}`);
  }
  t.throws(() => parseIntegerFlag('--runs', '0', 1), { message: '--runs must be between 1 and 9007199254740991, got 0' });
  t.throws(() => parseIntegerFlag('--runs', '100', 1, 99), FlagError);
});

t.test('parseListFlag accepts known items and names the unknown ones', async (t) => {
  t.same(parseListFlag('--only', 'big, tree', ['big', 'tree', 'scale']), ['big', 'tree']);
  t.equal(parseListFlag('--only', undefined, ['big']), undefined);
  t.throws(() => parseListFlag('--only', 'big,nope', ['big', 'tree']), { message: '--only: unknown nope (choose from big, tree)' });
  t.throws(() => parseListFlag('--only', ',', ['big']), FlagError);
});

/** Runs a runner from src under tsx in its own process group; resolves with its exit code and stderr, or rejects past the deadline. */
function runRunner(file: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', '--conditions=deltabox-src', join(SRC, file), ...args], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL'); // the whole group: a runner that went on has started servers
      reject(new Error(`${file} ${args.join(' ')} did not stop within ${DEADLINE_MS} ms: it went on with the flags (stderr so far: ${stderr.slice(0, 300)})`));
    }, DEADLINE_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const cases: [string, string[], RegExp][] = [
  ['bench.ts', ['--quick', '--runs', 'abc'], /^bench: --runs takes a whole number, got "abc"\n$/],
  ['bench.ts', ['--seed', 'abc'], /^bench: Unknown option '--seed'/],
  ['bench.ts', ['--only', 'big,nope'], /^bench: --only: unknown nope/],
  ['bench-core.ts', ['--runs', '0'], /^bench-core: --runs must be between 1 and 99, got 0\n$/],
  ['bench-core.ts', ['--pairs', 'no-such-pair'], /^bench-core: --pairs: unknown no-such-pair/],
  ['bench-server.ts', ['--quik'], /^bench-server: Unknown option '--quik'/],
];
for (const [file, args, message] of cases) {
  t.test(`${file} ${args.join(' ')} stops with exit 2 and says why`, async (t) => {
    const { code, stderr } = await runRunner(file, args);
    t.equal(code, 2);
    t.match(stderr, message);
  });
}
