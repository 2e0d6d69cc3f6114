/** The one duration parser (issue 9, items 4 and 5): grammar, fractions, bounds, and the two flags that overflowed. */
import t from 'tap';
import fc from 'fast-check';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { listTokens } from '@deltabox/server';
import {
  EXPIRES_BOUNDS, formatDurationText, INTERVAL_BOUNDS, MAX_TIMER_MS, parseDuration, type DurationBounds,
} from '../src/duration.js';
import { CliError } from '../src/exit-codes.js';
import { tempDir } from './helpers/harness.js';
import { spawnCli } from './helpers/child.js';

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const WIDE: DurationBounds = { minMs: 0, maxMs: Number.MAX_SAFE_INTEGER };

/** The parse result, or the CliError's exit code as a negative number; anything else thrown fails the test. */
function outcome(text: string, bounds: DurationBounds): number | 'usage' {
  try {
    return parseDuration(text, '--flag', bounds);
  } catch (err) {
    if (err instanceof CliError && err.exitCode === 2) return 'usage';
    throw err;
  }
}

t.test('an integer with a unit is that many units', async () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.constantFrom(...(Object.keys(UNITS) as Array<keyof typeof UNITS>)),
    (n, unit) => outcome(`${n}${unit}`, WIDE) === n * UNITS[unit]));
});

t.test('a fraction is rounded to the nearest millisecond', async () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 999 }), fc.constantFrom(...(Object.keys(UNITS) as Array<keyof typeof UNITS>)),
    (whole, thousandths, unit) => {
      const text = `${whole}.${String(thousandths).padStart(3, '0')}${unit}`;
      return outcome(text, WIDE) === Math.round(Number(`${whole}.${String(thousandths).padStart(3, '0')}`) * UNITS[unit]);
    }));
  t.equal(parseDuration('1.5m', '--flag', WIDE), 90_000);
  t.equal(parseDuration('0.5s', '--flag', WIDE), 500);
});

t.test('any text gives a whole number of ms within the bounds, or a usage error; never another error', async () => {
  const text = fc.oneof(fc.string(), fc.stringMatching(/^[0-9.]{0,20}(ms|s|m|h|d|w|x|)$/), fc.constantFrom('', ' 5s', '5 s', '-5s', '+5s', '1e3s', '0x10s', '5', '5S', '.5s', '5.s', 'Infinitys', 'NaNs'));
  const bounds = fc.constantFrom(INTERVAL_BOUNDS, EXPIRES_BOUNDS, WIDE);
  fc.assert(fc.property(text, bounds, (s, b) => {
    const r = outcome(s, b);
    return r === 'usage' || (Number.isInteger(r) && r >= b.minMs && r <= b.maxMs);
  }));
  for (const bad of ['5', '1.5', ' 5s', '5 s', '-5s', '1e3s', '0x10s', '5S', '.5s', '5.s', '']) t.equal(outcome(bad, WIDE), 'usage', `'${bad}' is refused`);
  t.throws(() => parseDuration('5', '--interval', INTERVAL_BOUNDS), { message: /add a unit: 5s or 5ms\?/ }, 'a bare number is refused with a hint');
});

t.test('values out of the bounds are refused, naming the limit', async () => {
  t.throws(() => parseDuration('1000h', '--interval', INTERVAL_BOUNDS), { exitCode: 2, message: /--interval: '1000h' is above the maximum of 2147483647ms \(about 24\.8d\)/ });
  t.throws(() => parseDuration('99ms', '--interval', INTERVAL_BOUNDS), { exitCode: 2, message: /below the minimum of 100ms/ });
  t.throws(() => parseDuration('99999999999999w', '--expires', EXPIRES_BOUNDS), { exitCode: 2, message: /above the maximum of 36525d/ });
  t.throws(() => parseDuration(`${'9'.repeat(400)}s`, '--expires', EXPIRES_BOUNDS), { exitCode: 2, message: /above the maximum/ }, 'Infinity is out of range too');
  t.equal(parseDuration(`${MAX_TIMER_MS}ms`, '--interval', INTERVAL_BOUNDS), MAX_TIMER_MS, 'the timer limit itself is accepted');
  t.ok(Number.isFinite(new Date(Date.now() + EXPIRES_BOUNDS.maxMs).getTime()), 'the longest expiry is a representable date');
});

t.test('formatDurationText gives text that parses back to the same value', async () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (ms) => parseDuration(formatDurationText(ms), '--flag', WIDE) === ms));
  t.equal(formatDurationText(90_000), '90s');
  t.equal(formatDurationText(1500), '1500ms');
});

t.test('scan --interval 1000h is a usage error before anything is sent', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'client');
  mkdirSync(cdir);
  // Port 1 is closed: were the interval accepted, the scanner would fail as unreachable (exit 4), not 2.
  const child = spawnCli(['scan', '--cdir', cdir, '--server', 'http://127.0.0.1:1', '--token', 'x', '--interval', '1000h', '--once']);
  t.equal((await child.exited).code, 2, child.stderr());
  t.match(child.stderr(), /^deltabox: --interval: '1000h' is above the maximum of 2147483647ms \(about 24\.8d\)\n$/);
});

t.test('token create --expires 99999999999999w is a usage error and creates no token', async (t) => {
  const sdir = tempDir(t);
  const near = spawnCli(['token', 'create', '--sdir', sdir, '--name', 'near', '--expires', '1d']);
  t.equal((await near.exited).code, 0, `a token in range is created (and the folder made a served one): ${near.stderr()}`);
  const child = spawnCli(['token', 'create', '--sdir', sdir, '--name', 'far', '--expires', '99999999999999w']);
  t.equal((await child.exited).code, 2, child.stderr());
  t.equal(child.stdout(), '', 'no token printed');
  t.match(child.stderr(), /--expires: '99999999999999w' is above the maximum of 36525d/);
  t.same(listTokens(sdir).map((row) => row.name), ['near'], 'no token stored for the refused expiry');
  const list = spawnCli(['token', 'list', '--sdir', sdir]);
  t.equal((await list.exited).code, 0, `token list still works: ${list.stderr()}`);
});
