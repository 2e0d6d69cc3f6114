/**
 * The client and server folders of `run` must be two separate folders, neither inside the other, judged on
 * the real paths (symlinks resolved), not on the text of the flags: `--cdir link/sub --sdir target` names a
 * folder inside the server folder, and mirroring it would delete the server folder's other files and then the
 * client folder itself. Folders that do not exist yet are judged by the real path of their nearest existing
 * ancestor plus the rest. This checks paths only; it creates nothing.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';
import { CliError, EXIT } from './exit-codes.js';

/**
 * The real absolute path `path` names, or would name once created: each existing component is resolved
 * through its symlinks (in the order the kernel would, so `link/..` is the link target's parent); the rest,
 * which cannot be symlinks, is appended as written.
 * @throws CliError (bad input) when an existing component is not a folder
 */
export function realPathOf(path: string, flag: string): string {
  const parts = (isAbsolute(path) ? path : join(process.cwd(), path)).split(sep).filter((p) => p !== '' && p !== '.');
  let real = realpathSync.native(sep);
  let existing = true;
  for (const part of parts) {
    if (part === '..') {
      // `real` is canonical, so its parent is the kernel's `..` too.
      real = real === sep ? sep : real.slice(0, real.lastIndexOf(sep)) || sep;
      continue;
    }
    const next = real === sep ? `${sep}${part}` : `${real}${sep}${part}`;
    if (existing && lstatSync(next, { throwIfNoEntry: false }) !== undefined) {
      const target = statSync(next, { throwIfNoEntry: false });
      if (target === undefined) throw new CliError(`${flag} ${path}: ${next} is a broken symlink`, EXIT.badInput);
      if (!target.isDirectory()) throw new CliError(`${flag} ${path}: ${next} is a file, not a folder`, EXIT.badInput);
      real = realpathSync.native(next);
    } else {
      existing = false;
      real = next;
    }
  }
  return real;
}

/** True when `inner` is `outer` or lies inside it (both real, absolute paths). */
function within(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer === sep ? sep : `${outer}${sep}`);
}

/**
 * Refuses a client and a server folder that are the same folder or nested, either way round, through any
 * symlink. Case-insensitive file systems are covered for existing folders (realpath gives their stored case).
 * @throws CliError (usage) when they overlap; (bad input) when a path names a file
 */
export function assertSeparateFolders(cdir: string, sdir: string): void {
  const client = realPathOf(cdir, '--cdir');
  const server = realPathOf(sdir, '--sdir');
  let relation: string | undefined;
  if (client === server) relation = 'are the same folder';
  else if (within(client, server)) relation = 'overlap: the client folder is inside the server folder';
  else if (within(server, client)) relation = 'overlap: the server folder is inside the client folder';
  if (relation === undefined) return;
  const shown = (flag: string, given: string, real: string) => (given === real ? `${flag} ${given}` : `${flag} ${given} (${real})`);
  throw new CliError(
    `${shown('--cdir', cdir, client)} and ${shown('--sdir', sdir, server)} ${relation}; ` +
      'they must be separate folders, neither inside the other (mirroring would delete files)',
    EXIT.usage,
  );
}
