/**
 * The text real pair: a large document made of real prose (every license text of the SPDX license list, as the
 * `spdx-license-list` npm package ships them, in key order), and the same document after seeded paragraph edits:
 * paragraphs inserted (new sentences from the document's own words), deleted, and moved elsewhere. Holds the
 * document as a list of paragraphs (~5 MB): it is an input builder, not a measured path.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { seededRandom } from './seeded-data.js';

/** Share of the paragraphs each kind of edit touches. */
const EDIT_SHARE = 0.01;

/** What the edit script did, for the pair's description. */
export interface TextEdits {
  paragraphs: number;
  inserted: number;
  deleted: number;
  moved: number;
}

/** Reads `spdx-full.json` and writes the basis document and its edited copy. */
export function buildTextPair(spdxFullJson: string, basisPath: string, targetPath: string, seed: string): TextEdits {
  const licenses = JSON.parse(readFileSync(spdxFullJson, 'utf8')) as Record<string, { name?: string; licenseText?: string }>;
  const paragraphs: string[] = [];
  for (const id of Object.keys(licenses).sort()) {
    const { name, licenseText } = licenses[id]!;
    if (!licenseText) continue;
    paragraphs.push(`## ${id}: ${name ?? id}`);
    for (const p of licenseText.split(/\n\s*\n/)) if (p.trim() !== '') paragraphs.push(p.trim());
  }
  writeFileSync(basisPath, `${paragraphs.join('\n\n')}\n`);
  const edits = editParagraphs(paragraphs, seed);
  writeFileSync(targetPath, `${paragraphs.join('\n\n')}\n`);
  return edits;
}

/** Applies the seeded insert/delete/move script to `paragraphs` in place. */
function editParagraphs(paragraphs: string[], seed: string): TextEdits {
  const random = seededRandom(`${seed}:paragraphs`);
  const at = (): number => Math.floor(random() * paragraphs.length);
  const words = paragraphs.join(' ').split(/\s+/).filter((w) => /^[A-Za-z,.]+$/.test(w));
  const count = Math.round(paragraphs.length * EDIT_SHARE);
  const edits: TextEdits = { paragraphs: paragraphs.length, inserted: count, deleted: count, moved: count };
  for (let i = 0; i < count; i++) {
    const sentence = Array.from({ length: 20 + Math.floor(random() * 60) }, () => words[Math.floor(random() * words.length)]!).join(' ');
    paragraphs.splice(at(), 0, `${sentence}.`);
    paragraphs.splice(at(), 1);
    const [moved] = paragraphs.splice(at(), 1);
    paragraphs.splice(at(), 0, moved!);
  }
  return edits;
}
