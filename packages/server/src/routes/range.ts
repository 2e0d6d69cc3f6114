/** Parses a single-range `Range: bytes=...` header (RFC 9110 §14.1.2). Pure. */

export type RangeResult = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * `full` when there is no usable range (absent, malformed or several ranges: RFC 9110 lets a server
 * ignore them), `partial` with inclusive bounds, or `unsatisfiable` when it does not fit `size`.
 */
export function parseRange(value: string | undefined, size: number): RangeResult {
  if (value === undefined) return { kind: 'full' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return { kind: 'full' };
  }
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}
