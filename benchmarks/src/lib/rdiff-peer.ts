/**
 * The rdiff peer (librsync's command-line tool): finds it, installs it with apt-get when missing and we are
 * root, and reads the block length it chose from its signature header. Never hides a missing peer: the
 * result says why it is unavailable, for the report and the JSON.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';

export interface RdiffPeer {
  available: boolean;
  path?: string;
  /** First line of `rdiff --version`, e.g. "rdiff (librsync 2.3.2)". */
  version?: string;
  /** How it came to be available, or why it is not. */
  note: string;
}

/** Finds rdiff; installs Debian's `rdiff` package if it is missing and this process is root. */
export function detectRdiff(): RdiffPeer {
  const found = probe();
  if (found) return { ...found, available: true, note: 'found on PATH' };
  if (process.getuid?.() !== 0) return { available: false, note: 'rdiff is not installed and we are not root, so it could not be installed (apt-get install -y rdiff)' };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let install = spawnSync('apt-get', ['install', '-y', 'rdiff'], { encoding: 'utf8', env });
  if (install.status !== 0) {
    spawnSync('apt-get', ['update'], { encoding: 'utf8', env });
    install = spawnSync('apt-get', ['install', '-y', 'rdiff'], { encoding: 'utf8', env });
  }
  const after = probe();
  if (after) return { ...after, available: true, note: 'installed now with apt-get install -y rdiff' };
  const why = (install.error?.message ?? install.stderr ?? '').trim().split('\n').slice(-2).join(' ');
  return { available: false, note: `rdiff is missing and apt-get install -y rdiff failed: ${why}` };
}

function probe(): { path: string; version: string } | undefined {
  const which = spawnSync('sh', ['-c', 'command -v rdiff'], { encoding: 'utf8' });
  const path = which.stdout.trim();
  if (which.status !== 0 || path === '') return undefined;
  const version = spawnSync(path, ['--version'], { encoding: 'utf8' });
  return { path, version: (version.stdout || version.stderr).split('\n')[0]!.trim() };
}

/** librsync signature magics (librsync.h, rs_magic_number). */
const SIGNATURE_MAGICS: Record<number, string> = {
  0x72730136: 'MD4',
  0x72730137: 'BLAKE2',
  0x72730146: 'RabinKarp+MD4',
  0x72730147: 'RabinKarp+BLAKE2',
};

/** Block and strong-sum lengths from an rdiff signature file's 12-byte header (big-endian). */
export function readRdiffSignatureHeader(path: string): { blockLength: number; strongLength: number; kind: string } {
  const fd = openSync(path, 'r');
  const header = Buffer.alloc(12);
  try {
    if (readSync(fd, header, 0, 12, 0) !== 12) throw new Error(`${path}: shorter than an rdiff signature header`);
  } finally {
    closeSync(fd);
  }
  const magic = header.readUInt32BE(0);
  const kind = SIGNATURE_MAGICS[magic];
  if (!kind) throw new Error(`${path}: not an rdiff signature (magic 0x${magic.toString(16)})`);
  return { blockLength: header.readUInt32BE(4), strongLength: header.readUInt32BE(8), kind };
}
