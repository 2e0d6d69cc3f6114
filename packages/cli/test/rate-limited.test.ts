/**
 * A 429 during a bad-token storm is an authentication failure: `scan --once` exits 5 with a line that
 * says to check the token, not 1 with a raw HTTP error. Real server with a low failure limit, real CLI.
 */
import t from 'tap';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildServer } from '@deltabox/server';
import { tempDir } from './helpers/harness.js';
import { spawnCli } from './helpers/child.js';

t.test('scan --once answered 429 after failed authentications exits 5', async (t) => {
  const base = tempDir(t);
  const cdir = join(base, 'c');
  mkdirSync(cdir);
  const app = await buildServer({ sdir: join(base, 's'), logger: false, limits: { authFailureMax: 1 } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  // The first failure uses up the allowance; the scanner's next authenticated request meets the 429.
  await fetch(`${url}/v1/changes?since=0`, { headers: { authorization: 'Bearer wrong' } });
  const child = spawnCli(['scan', '--cdir', cdir, '--server', url, '--token', 'still-wrong', '--once']);
  const { code } = await child.exited;
  t.equal(code, 5, child.stderr());
  t.match(child.stderr(), /too many failed authentications \(429\); check the token/);
});
