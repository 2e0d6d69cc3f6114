/**
 * Retention as a pure function: keep(versions, now, policy) says which past versions stay. Staggered, in
 * the spirit of Syncthing's versioning, by the age of a version (now minus the time it stopped being
 * current): every version younger than `allMs`; then, per path, the newest version in each day-long slot
 * up to `dailyMs`; then the newest in each week-long slot up to `weeklyMs`; nothing older. Slots are counted
 * back from `now`, so a version keeps its slot as time passes. Last, the size cap: the newest kept versions
 * (across all paths) stay while the distinct objects they need fit in `maxBytes`; older ones go. No I/O,
 * no clock: the caller passes `now`.
 */

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

export interface RetentionPolicy {
  /** Every version younger than this is kept. */
  allMs: number;
  /** One a day is kept up to this age. */
  dailyMs: number;
  /** One a week is kept up to this age. */
  weeklyMs: number;
  /** Distinct bytes of kept version objects; Infinity for no cap. */
  maxBytes: number;
}

/** The default: every version for a day, one a day for 30 days, one a week for a year, 10 GiB at most. */
export const DEFAULT_RETENTION: RetentionPolicy = { allMs: DAY_MS, dailyMs: 30 * DAY_MS, weeklyMs: 365 * DAY_MS, maxBytes: 10 * 2 ** 30 };

/** What retention needs of a version. */
export interface RetainedVersion {
  id: number;
  path: string;
  hash: string;
  size: number;
  /** When it stopped being current. */
  timeMs: number;
}

function newestFirst(a: RetainedVersion, b: RetainedVersion): number {
  return b.timeMs - a.timeMs || b.id - a.id;
}

/** The ids of `versions` that `policy` keeps at `now`. */
export function keep(versions: readonly RetainedVersion[], now: number, policy: RetentionPolicy): Set<number> {
  const kept: RetainedVersion[] = [];
  const slots = new Set<string>();
  for (const v of [...versions].sort(newestFirst)) {
    const age = Math.max(0, now - v.timeMs);
    if (age < policy.allMs) {
      kept.push(v);
      continue;
    }
    let slot: string;
    if (age < policy.dailyMs) slot = `d${Math.floor(age / DAY_MS)}`;
    else if (age < policy.weeklyMs) slot = `w${Math.floor(age / WEEK_MS)}`;
    else continue;
    const key = `${slot}\0${v.path}`;
    if (slots.has(key)) continue; // a newer version of this path holds the slot
    slots.add(key);
    kept.push(v);
  }
  const ids = new Set<number>();
  const stored = new Set<string>();
  let bytes = 0;
  for (const v of kept) {
    const extra = stored.has(v.hash) ? 0 : v.size;
    if (bytes + extra > policy.maxBytes) break; // everything older goes too: the cap keeps the newest
    bytes += extra;
    stored.add(v.hash);
    ids.add(v.id);
  }
  return ids;
}
