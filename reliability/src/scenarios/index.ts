/** The scenario table of `pnpm test:faults`: name, what it tries, and its full and --quick sizes. */
import type { ScenarioResult } from '../harness/report.js';
import { serverKill } from './server-kill.js';
import { scannerKill } from './scanner-kill.js';
import { outage } from './outage.js';
import { diskFull } from './disk-full.js';
import { tornRead } from './torn-read.js';
import { httpFuzz } from './http-fuzz.js';
import { pathAttacks } from './path-attacks.js';
import { tokens } from './tokens.js';
import { decoderFuzz } from './decoder-fuzz.js';
import { load } from './load.js';
import { multiDevice } from './multi-device.js';

export interface RunContext {
  seed: number;
  quick: boolean;
  /** False with --no-folder-edits: the kill scenarios edit files only. */
  folderEdits: boolean;
  /** --trials: trials of the multi-device simulation (undefined: its default). */
  trials?: number;
  /** --devices: devices of the multi-device simulation (undefined: its default). */
  devices?: number;
  log: (line: string) => void;
}

export interface Scenario {
  name: string;
  description: string;
  run(ctx: RunContext): Promise<ScenarioResult>;
}

export const scenarios: Scenario[] = [
  {
    name: 'server-kill',
    description: 'server SIGKILLed at random moments during a 300-file sync with mixed edits',
    run: ({ seed, quick, folderEdits, log }) => serverKill({ seed, trials: quick ? 5 : 25, files: 300, editsPerTrial: 30, maxKillDelayMs: 3000, folderEdits, log }),
  },
  {
    name: 'scanner-kill',
    description: 'scanner SIGKILLed at random moments; restart converges, nothing uploaded twice, SQLite state intact',
    run: ({ seed, quick, folderEdits, log }) => scannerKill({ seed, trials: quick ? 5 : 25, files: 300, editsPerTrial: 30, maxKillDelayMs: 3000, folderEdits, log }),
  },
  {
    name: 'outage',
    description: 'server unreachable (connections refused) while 200 files change; queue, backoff, convergence',
    run: ({ seed, quick, log }) => outage({ seed, outageMs: quick ? 8_000 : 30_000, files: 250, changes: 200, log }),
  },
  {
    name: 'disk-full',
    description: 'the server folder on a full 8 MiB tmpfs: clear 507s, old versions intact, sync resumes when space returns',
    run: ({ seed, log }) => diskFull({ seed, diskBytes: 8 * 1024 * 1024, log }),
  },
  {
    name: 'torn-read',
    description: 'files rewritten in place while they upload: no torn file on the server, the latest arrives',
    run: ({ seed, quick, log }) =>
      tornRead({
        seed,
        durationMs: quick ? 6_000 : 30_000,
        files: quick ? { 'small.bin': 40_000, 'medium.bin': 4 << 20 } : { 'small.bin': 40_000, 'medium.bin': 4 << 20, 'large.bin': 70 << 20 },
        log,
      }),
  },
  {
    name: 'http-fuzz',
    description: 'malformed requests over raw sockets: server up, RSS bounded, clear 4xx only, folder unchanged',
    run: ({ seed, quick, log }) => httpFuzz({ seed, durationMs: quick ? 5_000 : 60_000, log }),
  },
  {
    name: 'path-attacks',
    description: 'traversal encodings, planted symlinks, state-folder spellings, device names: nothing outside the root',
    run: ({ seed, log }) => pathAttacks({ seed, log }),
  },
  {
    name: 'tokens',
    description: 'revoked/expired tokens fail at once, read-only cannot write, brute force limited, no token in logs',
    run: ({ seed, log }) => tokens({ seed, log }),
  },
  {
    name: 'decoder-fuzz',
    description: 'the core decoder fuzz script: 1,000,000 signature and delta decoding cases',
    run: ({ seed, quick, log }) => decoderFuzz({ seed, cases: quick ? 100_000 : 1_000_000, timeoutMs: 30 * 60_000, log }),
  },
  {
    name: 'multi-device',
    description: 'devices syncing one folder both ways while devices and the server are killed or cut off; nothing lost',
    run: ({ seed, quick, trials, devices, log }) =>
      multiDevice({
        seed,
        trials: trials ?? (quick ? 2 : 10),
        devices: devices ?? 4,
        activityMs: quick ? 20_000 : 60_000,
        filesEach: 60,
        actionGapMs: 150,
        faults: true,
        quiescenceTimeoutMs: 180_000,
        log,
      }),
  },
  {
    name: 'shared-load',
    description: '16 devices on one shared server folder with steady edits: all converge, server latency and RSS',
    run: ({ seed, quick, devices, log }) =>
      multiDevice({
        name: 'shared-load',
        seed,
        trials: 1,
        devices: devices ?? 16,
        activityMs: quick ? 20_000 : 120_000,
        filesEach: 40,
        actionGapMs: 70,
        faults: false,
        quiescenceTimeoutMs: 300_000,
        log,
      }),
  },
  {
    name: 'load',
    description: '16 scanner processes syncing to one server process with steady edits',
    run: ({ seed, quick, log }) => load({ seed, scanners: 16, durationMs: quick ? 20_000 : 120_000, filesEach: 40, log }),
  },
];
