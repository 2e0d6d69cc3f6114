/**
 * Escapes control characters for a terminal or a log line: a file name holding a newline, a carriage
 * return or an escape sequence (`\e[2J`) must not break a line or drive the terminal. Pure.
 */

/** C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with every control character written as `\n`, `\r`, `\t`, `\xNN` or `\uNNNN`; printable text unchanged. */
export function escapeName(text: string): string {
  return text.replace(CONTROL, (c) => {
    const named = NAMED[c];
    if (named !== undefined) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** A name on disk as bytes, decoded for display: invalid UTF-8 bytes as `\xNN`, controls escaped. */
export function displayBytes(name: Uint8Array): string {
  let out = '';
  let i = 0;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  while (i < name.length) {
    // Longest valid run from i (at most 4 bytes per character), else one escaped byte.
    let taken = 0;
    for (let len = Math.min(4, name.length - i); len >= 1 && taken === 0; len--) {
      try {
        out += decoder.decode(name.subarray(i, i + len));
        taken = len;
      } catch {
        // not a whole character: try shorter
      }
    }
    if (taken === 0) {
      out += `\\x${name[i]!.toString(16).padStart(2, '0')}`;
      taken = 1;
    }
    i += taken;
  }
  return escapeName(out);
}
