/**
 * Modification times on the wire are milliseconds since 1970 (fractional and negative allowed), compared in
 * whole milliseconds toward zero (`Math.trunc`) by both sides. These helpers write such a time to a file so
 * that it reads back as the same whole millisecond.
 */

/**
 * The mtime argument of `fs.utimes` for `mtimeMs`: seconds as a decimal string. A string because Node replaces
 * a negative *number* by the current time (a file dated before 1970 landed as "now"). For a whole millisecond,
 * half a microsecond away from zero is added: seconds as a double cannot hold most whole milliseconds, and the
 * nanoseconds the file system keeps then read back just below them (…495 ms set, …494.999 read, 494 compared;
 * for a negative time, -1500 read back as -1499.999). Fractional times are kept as they are.
 */
export function utimesArg(mtimeMs: number): string {
  const ms = Number.isInteger(mtimeMs) ? mtimeMs + (mtimeMs < 0 ? -0.0005 : 0.0005) : mtimeMs;
  return (ms / 1000).toFixed(7);
}
