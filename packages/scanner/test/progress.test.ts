/** The progress line: bounded ETA, "--" when unknown, bytes to send rather than file sizes. */
import t from 'tap';
import { formatEta, progressLine } from '../src/progress.js';
import { escapeName } from '../src/detect/escape-name.js';

t.test('the ETA is "--" when nothing moves and bounded when the rate is tiny', async (t) => {
  t.equal(formatEta(50 * 2 ** 20, 0), 'ETA --');
  t.equal(formatEta(50 * 2 ** 20, 1e-300), 'ETA --', 'a smoothed rate decayed to almost nothing makes no 1e24h ETA');
  t.equal(formatEta(50 * 2 ** 20, 2), 'ETA >100h');
  t.equal(formatEta(0, 1000), 'ETA --', 'nothing known to send');
  t.equal(formatEta(10 * 2 ** 20, 2 ** 20), 'ETA 10s');
  const line = progressLine({ pendingPaths: 1, pendingBytes: 300, deltaPaths: 0, inFlight: 1, sentFileBytes: 0, offline: false }, 1e-300);
  t.notMatch(line, /e\+/, line);
  t.match(line, /300 B to send .*ETA --/);
});

t.test('a delta not yet computed is not shown as its whole file size', async (t) => {
  const line = progressLine({ pendingPaths: 1, pendingBytes: 0, deltaPaths: 1, inFlight: 0, sentFileBytes: 0, offline: false }, 0);
  t.match(line, /0 B to send \(\+1 delta\(s\) to compute\)/);
});

t.test('names with newlines and escape sequences are escaped for the terminal', async (t) => {
  t.equal(escapeName('a\nb\x1b[2Jc\r\td\x7f\u2028'), 'a\\nb\\x1b[2Jc\\r\\td\\x7f\\u2028');
  t.equal(escapeName('café 日本'), 'café 日本', 'printable text is unchanged');
  const { ScannerError } = await import('../src/errors.js');
  t.equal(new ScannerError('HTTP', 'evil\nname').message, 'evil\\nname');
});
