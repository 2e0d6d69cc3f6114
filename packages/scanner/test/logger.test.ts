import t from 'tap';
import { PassThrough } from 'node:stream';
import { jsonLogger } from '../src/logger.js';

function capture(level?: string): { log: ReturnType<typeof jsonLogger>; lines: () => Array<Record<string, unknown>> } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += String(d)));
  const log = jsonLogger('scanner', out, level);
  return { log, lines: () => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

t.test('the JSON log starts at info, or at the level asked for (DELTABOX_LOG_LEVEL)', async (t) => {
  const plain = capture();
  plain.log.debug({ a: 1 }, 'hidden');
  plain.log.info({ b: 2 }, 'shown');
  await new Promise((r) => setImmediate(r));
  t.same(plain.lines().map((l) => l.msg), ['shown']);
  const debug = capture('debug');
  debug.log.debug({ a: 1 }, 'merge plan');
  await new Promise((r) => setImmediate(r));
  t.same(debug.lines().map((l) => l.msg), ['merge plan']);
  t.equal(plain.log.isLevelEnabled?.('debug'), false, 'the scanner skips debug-only work at info');
  t.equal(debug.log.isLevelEnabled?.('debug'), true);
  t.throws(() => jsonLogger('scanner', new PassThrough(), 'chatty'), /DELTABOX_LOG_LEVEL: expected one of/);
});
