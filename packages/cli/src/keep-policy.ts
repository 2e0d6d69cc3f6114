/**
 * `deltabox serve --keep SPEC`: the version retention policy. SPEC is a comma-separated list of
 * `all=DURATION` (every version younger than this), `daily=DURATION` (one a day up to this age),
 * `weekly=DURATION` (one a week up to this age) and `size=BYTES` (distinct bytes of kept versions, a number
 * with an optional unit B, KiB, MiB, GiB or TiB, or `none` for no cap). Durations follow duration.ts. Fields
 * not given keep the default (all=1d,daily=30d,weekly=365d,size=10GiB); `--keep none` keeps no history.
 * Parsing only.
 */
import { DEFAULT_RETENTION, type RetentionPolicy } from '@deltabox/server';
import { CliError, EXIT } from './exit-codes.js';
import { parseDuration, type DurationBounds } from './duration.js';

/** The grammar in one line, for --help. */
export const KEEP_GRAMMAR = 'all=DUR,daily=DUR,weekly=DUR,size=BYTES|none (default all=1d,daily=30d,weekly=365d,size=10GiB); none: no history';

/** A retention age: 0 up to 100 years. */
const KEEP_BOUNDS: DurationBounds = { minMs: 0, maxMs: 36_525 * 86_400_000 };

const BYTE_UNITS: Record<string, number> = { '': 1, B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

function parseBytes(text: string): number {
  if (text === 'none') return Infinity;
  const m = /^(\d+(?:\.\d+)?)(B|KiB|MiB|GiB|TiB)?$/.exec(text);
  if (!m) throw new CliError(`--keep: size must be a number of bytes with an optional unit (B, KiB, MiB, GiB, TiB) or none; got '${text}'`, EXIT.usage);
  return Math.floor(Number(m[1]) * BYTE_UNITS[m[2] ?? '']!);
}

const FIELDS = { all: 'allMs', daily: 'dailyMs', weekly: 'weeklyMs' } as const;

/**
 * The policy `spec` describes.
 * @throws CliError (usage, exit 2) for an unknown or repeated field, or a bad value
 */
export function parseKeep(spec: string): RetentionPolicy {
  if (spec === 'none') return { allMs: 0, dailyMs: 0, weeklyMs: 0, maxBytes: 0 };
  const policy: RetentionPolicy = { ...DEFAULT_RETENTION };
  const seen = new Set<string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (eq === -1 || !(key in FIELDS || key === 'size')) throw new CliError(`--keep: expected ${KEEP_GRAMMAR}; got '${part}'`, EXIT.usage);
    if (seen.has(key)) throw new CliError(`--keep: '${key}' given twice`, EXIT.usage);
    seen.add(key);
    if (key === 'size') policy.maxBytes = parseBytes(value);
    else policy[FIELDS[key as keyof typeof FIELDS]] = parseDuration(value, `--keep ${key}`, KEEP_BOUNDS);
  }
  return policy;
}
