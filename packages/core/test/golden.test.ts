import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyDeltaToBuffer, decodeSignature, encodeSignature } from '../src/index.js';
import { buildFixtures } from './helpers/fixtures.js';
import { equalBytes } from './helpers/bytes.js';

const dir = join(import.meta.dirname, 'fixtures');
const read = (name: string) => new Uint8Array(readFileSync(join(dir, name)));

t.test('encoders reproduce every golden vector byte for byte', async (t) => {
  for (const [name, bytes] of Object.entries(await buildFixtures())) {
    t.ok(equalBytes(bytes, read(name)), name);
  }
});

t.test('golden deltas patch their basis into their target', async (t) => {
  for (const size of ['tiny', 'medium']) {
    const basis = read(`${size}-basis.bin`);
    const target = read(`${size}-target.bin`);
    for (const kind of ['', '-exact', '-v2', '-exact-v2']) {
      t.ok(equalBytes(await applyDeltaToBuffer(basis, read(`${size}${kind}.delta`)), target), `${size}${kind}.delta`);
    }
  }
});

t.test('golden signatures decode and re-encode to the same bytes', async (t) => {
  for (const name of ['tiny.sig', 'medium.sig']) t.ok(equalBytes(encodeSignature(decodeSignature(read(name))), read(name)), name);
});

/** docs/FORMAT.md's worked examples must be the fixture bytes: a hex dump in the doc is checked here. */
t.test('FORMAT.md worked examples are the fixture bytes', async (t) => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'FORMAT.md'), 'utf8');
  for (const name of ['tiny.sig', 'tiny.delta', 'tiny-exact.delta', 'tiny-v2.delta', 'tiny-exact-v2.delta']) {
    const start = doc.indexOf(`<!-- hex:${name} -->`);
    t.ok(start >= 0, `FORMAT.md has the ${name} example`);
    const block = doc.slice(start).split('```')[1] ?? '';
    // Each line: offset, then hex byte pairs up to the '|' comment column.
    const hex = block
      .split('\n')
      .map((l) => l.split('|')[0]!.replace(/^\s*[0-9a-f]{4}:/i, ''))
      .join('')
      .replace(/[^0-9a-f]/gi, '');
    t.equal(hex, Buffer.from(read(name)).toString('hex'), `${name} hex in FORMAT.md`);
  }
});
