/**
 * Slice of `pnpm test:faults`: tokens (revocation, expiry, read-only, brute force, nothing in logs) and
 * path attacks (traversal encodings, planted symlinks, state folder, device names) against a real server.
 */
import t from 'tap';
import { tokens } from '../src/scenarios/tokens.js';
import { pathAttacks } from '../src/scenarios/path-attacks.js';
import { summaryLine } from '../src/harness/report.js';

const seed = Number(process.env.DELTABOX_SEED ?? 20261125);

t.test('revoked and expired tokens fail at once, read-only tokens cannot write, guessing is rate limited, no token is logged', async (t) => {
  const r = await tokens({ seed });
  t.comment(summaryLine(r));
  t.same(r.failures, []);
});

let attacks: Awaited<ReturnType<typeof pathAttacks>> | undefined;

t.test('no path attack reads or writes outside the server folder', async (t) => {
  attacks = await pathAttacks({ seed });
  t.comment(summaryLine(attacks));
  t.same(attacks.failures, [], 'outside unchanged by the requests, nothing leaked, every refused name refused');
  t.equal(attacks.mismatches, 0);
  t.same(
    attacks.bugs.filter((b) => !b.startsWith('BUG state-tmp-symlink')),
    [],
    'no 5xx on any attack',
  );
});

t.test(
  'a symlink planted as .deltabox/tmp does not make the server delete or write files outside its folder',
  async (t) => {
    t.ok(attacks, 'the path attack run happened');
    t.same(
      attacks?.bugs.filter((b) => b.startsWith('BUG state-tmp-symlink')),
      [],
    );
  },
);
