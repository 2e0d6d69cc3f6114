/**
 * The value of `x-deltabox-recorded` (docs/API.md): the journal revisions a write request recorded, as sorted
 * ranges (`"12-15,18"`), or `none`. Revisions of one transaction are consecutive, so a batch of thousands of
 * files is one range.
 */

/** Formats revisions (any order, no duplicates needed) as ranges; `none` for an empty list. */
export function formatRevisionRanges(revisions: readonly number[]): string {
  if (revisions.length === 0) return 'none';
  const sorted = [...revisions].sort((a, b) => a - b);
  const parts: string[] = [];
  let lo = sorted[0]!;
  let hi = lo;
  for (const r of sorted.slice(1)) {
    if (r === hi || r === hi + 1) {
      hi = r;
      continue;
    }
    parts.push(lo === hi ? `${lo}` : `${lo}-${hi}`);
    lo = hi = r;
  }
  parts.push(lo === hi ? `${lo}` : `${lo}-${hi}`);
  return parts.join(',');
}

/** At most this many revisions are expanded from one header (a hostile or broken value expands to nothing). */
export const MAX_RECORDED_REVISIONS = 1_000_000;

/**
 * The revisions of a header value, or undefined when it is malformed or names more than
 * MAX_RECORDED_REVISIONS (then nothing is known: the device treats the answer as an older server's).
 */
export function parseRevisionRanges(value: string): number[] | undefined {
  const text = value.trim();
  if (text === 'none') return [];
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d{1,15})(?:-(\d{1,15}))?$/.exec(part.trim());
    if (m === null) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || out.length + (hi - lo + 1) > MAX_RECORDED_REVISIONS) return undefined;
    for (let r = lo; r <= hi; r++) out.push(r);
  }
  return out;
}
