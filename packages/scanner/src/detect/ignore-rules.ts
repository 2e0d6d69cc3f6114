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
  /**
   * `ignores(parent/name)` for an entry of the walk, whose folder `parent` ('' for the root) and the folders
   * above it are not ignored: the same answer, found more cheaply where the rules allow it.
   */
  ignoresIn(parent: string, name: string, isDir: boolean): boolean;
}

/**
 * True when a gitignore line can only ever match an entry by its own name: no '/' but a trailing one (after
 * a '!'), and no '**'. Such a line has no anchor, so it matches at any depth, on the last segment only.
 * Blank lines and comments count as such (they match nothing).
 */
function matchesByName(line: string): boolean {
  const body = (line.startsWith('!') ? line.slice(1) : line).replace(/\/+$/, '');
  return !body.includes('/') && !body.includes('**');
}

/** True when a line is anchored to the root and names one segment (`/name`, `/name/`): it never matches deeper. */
function rootOnly(line: string): boolean {
  const body = (line.startsWith('!') ? line.slice(1) : line).replace(/\/+$/, '');
  return body.startsWith('/') && !body.slice(1).includes('/') && !body.includes('**');
}

/** A line the name matcher below translates itself: literal name characters, '*' and '?', maybe a trailing '/'. */
const PLAIN_NAME_LINE = /^[\w.~$#@%+=,*?-]+\/?$/;

/**
 * The lines that match by name (no anchor, no '**') as one regular expression per entry kind, when every such
 * line is plain (PLAIN_NAME_LINE, not negated, not a comment or blank): what the `ignore` package answers for
 * a name (case-insensitive by default, '*' and '?' stop at '/'), without its per-path cache of every name of a
 * large folder. Undefined when a line needs the package (negation, classes, escapes, spaces).
 */
function plainNameMatcher(lines: readonly string[]): ((name: string, isDir: boolean) => boolean) | undefined {
  const anyKind: string[] = [];
  const dirsOnly: string[] = [];
  for (const line of lines) {
    if (line === '' || line.startsWith('#') || !matchesByName(line)) continue;
    if (!PLAIN_NAME_LINE.test(line)) return undefined;
    const dirOnly = line.endsWith('/');
    const body = (dirOnly ? line.slice(0, -1) : line).replace(/[.$+]/g, '\\$&').replaceAll('*', '[^/]*').replaceAll('?', '[^/]');
    (dirOnly ? dirsOnly : anyKind).push(body);
  }
  const regex = (bodies: string[]) => (bodies.length === 0 ? undefined : new RegExp(`^(?:${bodies.join('|')})$`, 'i'));
  const files = regex(anyKind);
  const dirs = regex([...anyKind, ...dirsOnly]);
  return (name, isDir) => (isDir ? dirs : files)?.test(name) === true;
}

/** Builds the rules from the built-ins and the text of a `.deltaboxignore` file. */
export function buildIgnoreRules(userRules = ''): IgnoreRules {
  const lines = [...BUILTIN_IGNORES, ...userRules.split(/\r?\n/)];
  const matcher: Ignore = ignore().add([...BUILTIN_IGNORES]).add(userRules);
  // Below the root, a file's answer is its name's alone when every line matches by name or only at the root:
  // tested on the name against the lines that can match there, without the package's walk up the parents
  // and its cache of every full path (the walk reaches only entries whose folders are not ignored). Any
  // other line (a/b, **/x, a/**) and every entry is tested by its full path.
  const nameRules = lines.every((line) => matchesByName(line) || rootOnly(line));
  const byName = nameRules ? ignore().add(lines.filter(matchesByName)) : undefined;
  // Plain lines (the built-ins and most user files) skip the package altogether: a property test checks the answers agree.
  const plain = nameRules ? plainNameMatcher(lines) : undefined;
  const ignores = (relativePath: string, isDir: boolean) => matcher.ignores(isDir ? `${relativePath}/` : relativePath);
  return {
    ignores,
    ignoresIn(parent, name, isDir) {
      if (parent === '') return ignores(name, isDir);
      if (plain !== undefined) return plain(name, isDir);
      if (byName !== undefined) return byName.ignores(isDir ? `${name}/` : name);
      return ignores(`${parent}/${name}`, isDir);
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
