/** The launcher's rule for a command bundle (bin/deltabox.js bundleIsCurrent), for tests that need built bundles. */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** True when dist/bundles.json names `name`'s inputs and none is newer than dist/<name>.bundle.cjs. */
export function bundleIsCurrent(name: string): boolean {
  try {
    const inputs = (JSON.parse(readFileSync(join(root, 'dist', 'bundles.json'), 'utf8')) as Record<string, string[]>)[`${name}.bundle.cjs`];
    const made = statSync(join(root, 'dist', `${name}.bundle.cjs`)).mtimeMs;
    return Array.isArray(inputs) && inputs.every((input) => statSync(join(root, input)).mtimeMs <= made);
  } catch {
    return false;
  }
}
