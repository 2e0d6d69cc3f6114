/**
 * Names of conflict copies (docs/SYNC.md §Conflicts): `NAME (conflicted copy DEVICE YYYY-MM-DD HHMMSS).EXT`,
 * as Dropbox names them. Pure string functions; which bytes go under the name is the scanner's business.
 */

const MARK = 'conflicted copy';
/** ` (conflicted copy DEVICE 2026-12-01 093015)` or with a number: ` (conflicted copy DEVICE 2026-12-01 093015 2)`. */
const COPY_RE = / \(conflicted copy (.+) (\d{4}-\d{2}-\d{2}) (\d{6})(?: (\d+))?\)$/u;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Splits a base name into stem and extension (`.tar.gz` keeps `.gz`; a leading dot is no extension). */
function splitExt(name: string): [string, string] {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? [name, ''] : [name.slice(0, dot), name.slice(dot)];
}

/** A device name fit for a path segment: no slash, backslash, control characters or parentheses. */
function safeDevice(device: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = device.normalize('NFC').replace(/[/\\()\u0000-\u001f\u007f]/gu, '-').trim();
  return cleaned === '' ? 'device' : cleaned.slice(0, 64);
}

/**
 * The conflict copy's path for `path` (a POSIX relative path), made by `device` at local time `date`.
 * A path that already is a conflict copy is never wrapped again: its copy gets a number instead
 * (`... 093015 2)`), and `attempt` > 1 numbers a plain copy too (for a name that is already taken).
 */
export function conflictCopyName(path: string, device: string, date: Date, attempt = 1): string {
  const slash = path.lastIndexOf('/');
  const dir = slash < 0 ? '' : path.slice(0, slash + 1);
  const [stem, ext] = splitExt(path.slice(slash + 1));
  const existing = COPY_RE.exec(stem);
  if (existing) {
    const next = Math.max(Number(existing[4] ?? 1) + 1, attempt + 1);
    return `${dir}${stem.slice(0, existing.index)} (${MARK} ${existing[1]} ${existing[2]} ${existing[3]} ${next})${ext}`;
  }
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const time = `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
  const number = attempt > 1 ? ` ${attempt}` : '';
  return `${dir}${stem} (${MARK} ${safeDevice(device)} ${day} ${time}${number})${ext}`;
}

/** True when the last segment of `path` is a conflict copy's name (numbered or not). */
export function isConflictCopy(path: string): boolean {
  const [stem] = splitExt(path.slice(path.lastIndexOf('/') + 1));
  return COPY_RE.test(stem);
}
