/**
 * The one duration parser for every duration flag (`--interval`, `--expires`). Grammar: a decimal number,
 * fractions allowed, followed at once by a unit: `500ms`, `5s`, `1.5m`, `2h`, `30d`, `1w`. A bare number is
 * refused (seconds or milliseconds? the flag would have to guess), as are signs, exponents, hex and spaces.
 * Each flag has bounds; a value out of them is a usage error naming the limit. Parsing only: no timers here.
 */
import { CliError, EXIT } from './exit-codes.js';

/** Milliseconds per unit, largest first (formatting picks the largest unit that divides a value evenly). */
const UNIT_MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;

/** What a duration flag accepts, in whole milliseconds. */
export interface DurationBounds {
  minMs: number;
  maxMs: number;
}

/** The longest delay a Node timer holds (a signed 32-bit millisecond count); longer ones fire after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `--interval`: a timer period. At least 100 ms (a full scan more often than that only loads the machine and
 * the server), at most what a timer holds (about 24.8 days).
 */
export const INTERVAL_BOUNDS: DurationBounds = { minMs: 100, maxMs: MAX_TIMER_MS };

/**
 * `--expires`: a token lifetime added to the current time. At least 1 s; at most 100 years (36525d), so the
 * expiry date stays far inside what a Date and the token store can represent.
 */
export const EXPIRES_BOUNDS: DurationBounds = { minMs: 1000, maxMs: 36_525 * UNIT_MS.d };

/** The grammar in one line, for --help texts and error messages. */
export const DURATION_GRAMMAR = 'a number and a unit (ms, s, m, h, d, w), fractions allowed: 500ms, 5s, 1.5m, 2h, 30d';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/**
 * Parses a duration flag's value into whole milliseconds (rounded to the nearest).
 * @throws CliError (usage, exit 2) when the text does not follow the grammar or the value is out of `bounds`
 */
export function parseDuration(text: string, flag: string, bounds: DurationBounds): number {
  const m = DURATION.exec(text);
  if (!m) {
    const hint = /^\d+(?:\.\d+)?$/.test(text) ? ` (add a unit: ${text}s or ${text}ms?)` : '';
    throw new CliError(`${flag}: expected ${DURATION_GRAMMAR}; got '${text}'${hint}`, EXIT.usage);
  }
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] as Unit]);
  if (!(ms >= bounds.minMs)) throw new CliError(`${flag}: '${text}' is below the minimum of ${formatLimit(bounds.minMs)}`, EXIT.usage);
  if (!(ms <= bounds.maxMs)) throw new CliError(`${flag}: '${text}' is above the maximum of ${formatLimit(bounds.maxMs)}`, EXIT.usage);
  return ms;
}

/**
 * Whole milliseconds as the shortest exact duration text (`90000` -> `90s`, `1500` -> `1500ms`); parsing the
 * result gives `ms` back.
 */
export function formatDurationText(ms: number): string {
  for (const unit of Object.keys(UNIT_MS) as Unit[]) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** A limit for a message: exact text, plus days rounded down when it is not a whole number of them. */
function formatLimit(ms: number): string {
  const exact = formatDurationText(ms);
  return ms > UNIT_MS.d && ms % UNIT_MS.d !== 0 ? `${exact} (about ${Math.floor((ms / UNIT_MS.d) * 10) / 10}d)` : exact;
}

/** The --help text of a duration flag: what it is, the grammar, and its bounds. */
export function durationHelp(what: string, bounds: DurationBounds): string {
  return `${what}: ${DURATION_GRAMMAR}; ${formatLimit(bounds.minMs)} to ${formatLimit(bounds.maxMs)}`;
}
