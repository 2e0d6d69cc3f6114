/**
 * The real pairs' builders are deterministic and do what their description says: the text pair's paragraph
 * edits (same seed, same bytes; inserted, deleted and moved paragraphs), and zstd's window covering the files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { zstdWindowArgs, type ToolPaths } from '../src/lib/real-delta-tools.js';
import { buildTextPair } from '../src/lib/text-pair.js';

t.test('the text pair is the same for the same seed and differs by whole paragraphs', async (t) => {
  const dir = t.testdir();
  const licenses: Record<string, { name: string; licenseText: string }> = {};
  for (let i = 0; i < 40; i++) {
    licenses[`L-${String(i).padStart(2, '0')}`] = { name: `License ${i}`, licenseText: Array.from({ length: 5 }, (_, j) => `Paragraph ${j} of license ${i}, with some words.`).join('\n\n') };
  }
  const json = join(dir, 'spdx-full.json');
  writeFileSync(json, JSON.stringify(licenses));
  const a = buildTextPair(json, join(dir, 'a-basis.txt'), join(dir, 'a-target.txt'), 'seed-1');
  const b = buildTextPair(json, join(dir, 'b-basis.txt'), join(dir, 'b-target.txt'), 'seed-1');
  buildTextPair(json, join(dir, 'c-basis.txt'), join(dir, 'c-target.txt'), 'seed-2');
  t.same(a, { paragraphs: 240, inserted: 2, deleted: 2, moved: 2 });
  t.same(b, a);
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  t.equal(read('a-target.txt'), read('b-target.txt'), 'same seed, same target bytes');
  t.not(read('a-target.txt'), read('c-target.txt'), 'another seed, another edit script');
  t.equal(read('a-basis.txt').split('\n\n').length, 240);
  t.equal(read('a-target.txt').split('\n\n').length, 240, 'as many paragraphs inserted as deleted');
  t.not(read('a-target.txt'), read('a-basis.txt'));
});

t.test("zstd's window covers the larger file, and a basis over 128 MiB raises the memory limit", async (t) => {
  const paths = (basisBytes: number, targetBytes: number): ToolPaths => ({ basis: '', target: '', signature: '', delta: '', out: '', basisBytes, targetBytes });
  t.same(zstdWindowArgs(paths(22_536_704, 22_535_680)), ['--long=25']);
  t.same(zstdWindowArgs(paths(1 << 25, 1 << 25)), ['--long=25']);
  t.same(zstdWindowArgs(paths(100, 10)), ['--long=10']);
  t.same(zstdWindowArgs(paths(200 * 2 ** 20, 210 * 2 ** 20)), ['--long=28', '--memory=211MiB']);
});
