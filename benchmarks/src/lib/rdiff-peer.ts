/**
 * The rdiff peer (librsync's command-line tool): finds it, installs it with apt-get when missing and we are
 * root, and reads the block length it chose from its signature header. Never hides a missing peer: the
 * result says why it is unavailable, for the report and the JSON.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { detectSystemPeer, type SystemPeer } from './system-peer.js';

/** rdiff, as found (or installed, or not) on this machine. */
export type RdiffPeer = SystemPeer;

/** Finds rdiff; installs Debian's `rdiff` package if it is missing and this process is root. */
export function detectRdiff(): RdiffPeer {
  return detectSystemPeer('rdiff', 'rdiff', ['--version']);
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
