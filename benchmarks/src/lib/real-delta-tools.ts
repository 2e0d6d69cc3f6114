/**
 * The delta tools of the real-data benchmark and their command lines: deltabox through its built CLI
 * (signature-only `delta`, and byte-exact `delta --basis`), rdiff, `xdelta3 -9`, and `zstd --patch-from` at
 * -19 and -3. Each tool has an untimed-for-the-delta preparation (a signature), the timed delta step, and an
 * apply step that rebuilds the target to check the round trip. Which tools run is decided by what is installed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_DIR } from './run-info.js';
import { detectSystemPeer, type SystemPeer } from './system-peer.js';

/** The built deltabox command: whatever the engine is when the benchmark runs. */
export const DELTABOX_CLI = join(REPO_DIR, 'packages', 'cli', 'bin', 'deltabox.js');

/** One process to run: file and arguments. */
export interface Command {
  file: string;
  args: string[];
}

/** Paths one tool run works with; `signature`, `delta` and `out` are outputs, deleted before each step. */
export interface ToolPaths {
  basis: string;
  target: string;
  signature: string;
  delta: string;
  out: string;
  basisBytes: number;
  targetBytes: number;
}

export interface DeltaTool {
  id: string;
  /** How the report names it. */
  label: string;
  /** Key into the peers map. */
  peer: PeerName;
  /** Makes the signature the delta step needs; timed on its own, not part of the delta step. */
  signature?(p: ToolPaths): Command;
  delta(p: ToolPaths): Command;
  apply(p: ToolPaths): Command;
}

export type PeerName = 'deltabox' | 'rdiff' | 'xdelta3' | 'zstd';

/** Every peer, found or not. deltabox is unavailable until `pnpm build` has made its CLI's dist. */
export function detectPeers(): Record<PeerName, SystemPeer> {
  const built = existsSync(join(REPO_DIR, 'packages', 'cli', 'dist', 'main.js'));
  return {
    deltabox: built ? { available: true, path: DELTABOX_CLI, version: 'this checkout (packages/cli/dist)', note: 'built CLI' } : { available: false, note: 'packages/cli/dist is missing: run pnpm build first' },
    rdiff: detectSystemPeer('rdiff', 'rdiff', ['--version']),
    xdelta3: detectSystemPeer('xdelta3', 'xdelta3', ['-V']),
    zstd: detectSystemPeer('zstd', 'zstd', ['--version']),
  };
}

const node = (args: string[]): Command => ({ file: process.execPath, args: [DELTABOX_CLI, ...args] });

/**
 * zstd's window must cover the whole basis and target for --patch-from to find matches across the file
 * (zstd(1): "--long mode will be automatically activated if chainLog < fileLog"; set explicitly here so
 * compression and decompression agree). Windows over 2^27 also need --long=W when decoding, and a basis over
 * 128 MiB needs --memory to be accepted as the reference.
 */
export function zstdWindowArgs(p: ToolPaths): string[] {
  const windowLog = Math.min(31, Math.max(10, Math.ceil(Math.log2(Math.max(p.basisBytes, p.targetBytes, 1)))));
  const memory = p.basisBytes > 128 * 2 ** 20 ? [`--memory=${Math.ceil(Math.max(p.basisBytes, p.targetBytes) / 2 ** 20) + 1}MiB`] : [];
  return [`--long=${windowLog}`, ...memory];
}

function zstdTool(level: number): DeltaTool {
  return {
    id: `zstd-${level}`,
    label: `zstd --patch-from -${level}`,
    peer: 'zstd',
    delta: (p) => ({ file: 'zstd', args: ['-q', '-f', `-${level}`, ...zstdWindowArgs(p), `--patch-from=${p.basis}`, p.target, '-o', p.delta] }),
    apply: (p) => ({ file: 'zstd', args: ['-q', '-f', '-d', ...zstdWindowArgs(p), `--patch-from=${p.basis}`, p.delta, '-o', p.out] }),
  };
}

/** The tools in report order. */
export const DELTA_TOOLS: readonly DeltaTool[] = [
  {
    id: 'deltabox-signature',
    label: 'deltabox delta (signature only)',
    peer: 'deltabox',
    signature: (p) => node(['signature', p.basis, p.signature]),
    delta: (p) => node(['delta', p.signature, p.target, p.delta]),
    apply: (p) => node(['patch', p.basis, p.delta, p.out]),
  },
  {
    id: 'deltabox-exact',
    label: 'deltabox delta --basis (byte-exact)',
    peer: 'deltabox',
    signature: (p) => node(['signature', p.basis, p.signature]),
    delta: (p) => node(['delta', '--basis', p.basis, p.signature, p.target, p.delta]),
    apply: (p) => node(['patch', p.basis, p.delta, p.out]),
  },
  {
    id: 'rdiff',
    label: 'rdiff',
    peer: 'rdiff',
    signature: (p) => ({ file: 'rdiff', args: ['--force', 'signature', p.basis, p.signature] }),
    delta: (p) => ({ file: 'rdiff', args: ['--force', 'delta', p.signature, p.target, p.delta] }),
    apply: (p) => ({ file: 'rdiff', args: ['--force', 'patch', p.basis, p.delta, p.out] }),
  },
  {
    id: 'xdelta3-9',
    label: 'xdelta3 -9',
    peer: 'xdelta3',
    delta: (p) => ({ file: 'xdelta3', args: ['-9', '-e', '-f', '-s', p.basis, p.target, p.delta] }),
    apply: (p) => ({ file: 'xdelta3', args: ['-d', '-f', '-s', p.basis, p.delta, p.out] }),
  },
  zstdTool(19),
  zstdTool(3),
];
