/**
 * Which paths the scanner never syncs: the state folder, common editor and OS temp files, and the user's
 * `.deltaboxignore` (gitignore syntax, via the `ignore` package). Paths only; it does not read the tree.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { STATE_DIR } from '@deltabox/protocol';

export const IGNORE_FILE = '.deltaboxignore';

/** Built in: vim swap files, emacs backups and lock files, Office owner files, macOS litter, partial downloads. */
export const BUILTIN_IGNORES: readonly string[] = [
  `/${STATE_DIR}/`,
  '*.swp',
  '*.swo',
  '*~',
  '.#*',
  '~$*',
  '.DS_Store',
  '*.tmp',
  '*.crdownload',
  '*.part',
];

export interface IgnoreRules {
  /** True when `relativePath` (POSIX; dirs may end with '/') is not synced. */
  ignores(relativePath: string, isDir: boolean): boolean;
}

/** Builds the rules from the built-ins and the text of a `.deltaboxignore` file. */
export function buildIgnoreRules(userRules = ''): IgnoreRules {
  const matcher: Ignore = ignore().add([...BUILTIN_IGNORES]).add(userRules);
  return {
    ignores(relativePath, isDir) {
      return matcher.ignores(isDir ? `${relativePath}/` : relativePath);
    },
  };
}

/** Reads `<root>/.deltaboxignore` (absent = no user rules) and builds the rules. */
export function loadIgnoreRules(root: string): IgnoreRules {
  let text = '';
  try {
    text = readFileSync(join(root, IGNORE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return buildIgnoreRules(text);
}
