/** Regenerates test/fixtures/ (a deliberate format change only). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixtures } from '../test/helpers/fixtures.js';

const dir = join(import.meta.dirname, '..', 'test', 'fixtures');
for (const [name, bytes] of Object.entries(await buildFixtures())) {
  writeFileSync(join(dir, name), bytes);
  console.log(`${name}: ${bytes.length} bytes`);
}
