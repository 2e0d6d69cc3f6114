/** Every "<doc>.md §<heading>" that core's sources and tests cite names a heading that exists in docs/. */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const docs = join(root, '..', '..', 'docs');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'fixtures' || name === 'node_modules' ? [] : files(p);
    return /\.(ts|md)$/.test(name) ? [p] : [];
  });
}

function headings(doc: string): string[] {
  return readFileSync(join(docs, doc), 'utf8')
    .split('\n')
    .filter((l) => /^#{1,4} /.test(l))
    .map((l) => l.replace(/^#+ /, '').trim());
}

t.test('section citations in core point at headings that exist', async (t) => {
  let seen = 0;
  for (const file of [...files(join(root, 'src')), ...files(join(root, 'test')), ...files(join(root, 'scripts'))]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/([A-Z][A-Z-]*\.md) §([A-Za-z0-9_ -]+)/g)) {
      const [, doc, cited] = m as unknown as [string, string, string];
      const name = cited.trim();
      seen++;
      const found = headings(doc).some((h) => h === name || h.startsWith(`${name} `));
      t.ok(found, `${file.slice(root.length + 1)} cites ${doc} §${name}`);
    }
  }
  t.ok(seen >= 10, `${seen} citations checked`);
});

t.test('docs/CORE-API.md names every export of the package', async (t) => {
  const api = readFileSync(join(docs, 'CORE-API.md'), 'utf8');
  const index = readFileSync(join(root, 'src', 'index.ts'), 'utf8');
  const names = [...index.matchAll(/export \{([^}]*)\}/g)].flatMap((m) => m[1]!.split(',').map((n) => n.replace(/^\s*type\s+/, '').trim()).filter(Boolean));
  t.ok(names.length >= 40, `${names.length} exports`);
  for (const name of names) t.ok(new RegExp(`\\b${name}\\b`).test(api), `CORE-API.md documents ${name}`);
});
