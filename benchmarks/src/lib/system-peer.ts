/**
 * Finding a peer tool on this machine (rdiff, xdelta3, zstd): on PATH, or installed with apt-get when missing and
 * this process is root. Never hides a missing peer: the result says why it is unavailable, for the report and the
 * JSON, and the benchmark goes on without it.
 */
import { spawnSync } from 'node:child_process';

export interface SystemPeer {
  available: boolean;
  path?: string;
  /** First line of the tool's version output, e.g. "rdiff (librsync 2.3.2)". */
  version?: string;
  /** How it came to be available, or why it is not. */
  note: string;
}

/**
 * Finds `command`; when it is missing and we are root, runs `apt-get install -y <debianPackage>` (after an
 * `apt-get update` if the first try fails). `versionArgs` print the version (stdout or stderr, first line).
 */
export function detectSystemPeer(command: string, debianPackage: string, versionArgs: readonly string[]): SystemPeer {
  const found = probe(command, versionArgs);
  if (found) return { ...found, available: true, note: 'found on PATH' };
  const install = `apt-get install -y ${debianPackage}`;
  if (process.getuid?.() !== 0) return { available: false, note: `${command} is not installed and we are not root, so it could not be installed (${install})` };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let result = spawnSync('apt-get', ['install', '-y', debianPackage], { encoding: 'utf8', env });
  if (result.status !== 0) {
    spawnSync('apt-get', ['update'], { encoding: 'utf8', env });
    result = spawnSync('apt-get', ['install', '-y', debianPackage], { encoding: 'utf8', env });
  }
  const after = probe(command, versionArgs);
  if (after) return { ...after, available: true, note: `installed now with ${install}` };
  const why = (result.error?.message ?? result.stderr ?? '').trim().split('\n').slice(-2).join(' ');
  return { available: false, note: `${command} is missing and ${install} failed: ${why}` };
}

function probe(command: string, versionArgs: readonly string[]): { path: string; version: string } | undefined {
  const which = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = which.stdout.trim();
  if (which.status !== 0 || path === '') return undefined;
  const version = spawnSync(path, versionArgs, { encoding: 'utf8' });
  const first = `${version.stdout ?? ''}\n${version.stderr ?? ''}`.trim().split('\n')[0]!;
  // "Xdelta version 3.0.11, Copyright ...", "*** Zstandard CLI (64-bit) v1.5.4, by Yann Collet ***": name and version only.
  return { path, version: first.split(',')[0]!.replace(/^[*\s]+|[*\s]+$/g, '') };
}
