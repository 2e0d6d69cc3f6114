/**
 * The flags of `pnpm test:faults`, parsed with node:util parseArgs and checked: an unknown flag, a missing
 * value or a seed that is not a whole number is refused with one line (a hand parser turned `--seed abc`
 * into NaN and ran anyway). Parsing only; run-faults.ts runs the scenarios.
 */
import { parseArgs } from 'node:util';

export interface FaultFlags {
  quick: boolean;
  /** Undefined: choose one (and print it). */
  seed?: number;
  scenario?: string;
  folderEdits: boolean;
  /** Trials of the multi-device simulation. */
  trials?: number;
  /** Devices of the multi-device simulation (and of shared-load). */
  devices?: number;
}

/** A flag the runner cannot use; the message is one line for the user. */
export class FaultFlagError extends Error {
  readonly code = 'BAD_FLAG';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FaultFlagError';
  }
}

/** The largest seed: SeededRandom keeps 32 bits of it. */
const MAX_SEED = 2 ** 32 - 1;

export const FAULT_USAGE = 'usage: pnpm test:faults [-- --quick] [--seed N] [--scenario NAME] [--no-folder-edits] [--trials N] [--devices N]';

/**
 * Parses the runner's arguments (without node and the script). A leading `--` (what `pnpm x -- flags` may
 * pass through) is skipped.
 * @throws FaultFlagError for unknown flags, positionals, missing values and seeds outside 0..2^32-1
 */
export function parseFaultFlags(args: readonly string[]): FaultFlags {
  const rest = args[0] === '--' ? args.slice(1) : [...args];
  let values: { quick?: boolean; seed?: string; scenario?: string; 'no-folder-edits'?: boolean; trials?: string; devices?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean' },
        seed: { type: 'string' },
        scenario: { type: 'string' },
        'no-folder-edits': { type: 'boolean' },
        trials: { type: 'string' },
        devices: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new FaultFlagError(`${(err as Error).message}; ${FAULT_USAGE}`, { cause: err });
  }
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = /^\d{1,10}$/.test(values.seed) ? Number(values.seed) : Number.NaN;
    if (!(seed <= MAX_SEED)) throw new FaultFlagError(`--seed must be a whole number from 0 to ${MAX_SEED}, got '${values.seed}'`);
  }
  if (values.scenario === '') throw new FaultFlagError('--scenario needs a scenario name');
  const trials = countFlag('--trials', values.trials, 1, 10_000);
  const devices = countFlag('--devices', values.devices, 1, 64);
  return {
    quick: values.quick === true,
    folderEdits: values['no-folder-edits'] !== true,
    ...(trials === undefined ? {} : { trials }),
    ...(devices === undefined ? {} : { devices }),
    ...(seed === undefined ? {} : { seed }),
    ...(values.scenario === undefined ? {} : { scenario: values.scenario }),
  };
}

/** A whole-number flag within [min, max], or undefined when absent. */
function countFlag(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max)) throw new FaultFlagError(`${name} must be a whole number from ${min} to ${max}, got '${raw}'`);
  return n;
}
