import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const example = fileURLToPath(new URL('../examples/round-trip.ts', import.meta.url));
const readme = fileURLToPath(new URL('../README.md', import.meta.url));

t.test('the README example runs and round-trips', async (t) => {
  const out = execFileSync(process.execPath, ['--import=tsx', '--conditions=deltabox-src', example], { encoding: 'utf8' });
  t.match(out, /round trip ok/);
  t.match(out, /\(1[0-9]* literal\)|\(\d literal\)/, 'byte-exact delta carries only the changed bytes');
});

t.test('the README shows the example file verbatim', async (t) => {
  const code = readFileSync(example, 'utf8').trim();
  t.ok(readFileSync(readme, 'utf8').includes(code), 'README.md contains examples/round-trip.ts');
});
