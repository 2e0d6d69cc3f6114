/**
 * The history audit the kill scenarios run after recovery (src/harness/history-audit.ts): clean history
 * passes, and each kind of loss it exists to catch is reported: a missing object, a torn object, a replaced
 * content with no versions row. A real server on 127.0.0.1 makes the history; the damage is done by hand.
 */
import t from 'tap';
import { appendFileSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ChangeRecord } from '@deltabox/protocol';
import { buildServer, createToken } from '@deltabox/server';
import { auditHistory, replacedContents } from '../src/harness/history-audit.js';
import { sha256 } from '../src/harness/tree-digest.js';

t.test('the journal replay names every replaced content at the path where it was replaced', async (t) => {
  const c = (revision: number, op: ChangeRecord['op'], path: string, extra: Partial<ChangeRecord> = {}): ChangeRecord => ({ revision, op, path, timeMs: 0, ...extra });
  const { replaced, livesOn } = replacedContents([
    c(1, 'put', 'a', { hash: 'h1' }),
    c(2, 'put', 'a', { hash: 'h1' }), // same content: nothing replaced
    c(3, 'put', 'a', { hash: 'h2' }),
    c(4, 'put', 'd/x', { hash: 'x1' }),
    c(5, 'move', 'e', { from: 'd' }),
    c(6, 'put', 'e/x', { hash: 'x2' }),
    c(7, 'put', 'b', { hash: 'b1' }),
    c(8, 'move', 'b', { from: 'a' }), // a over b
    c(9, 'rmdir', 'e'),
    c(10, 'delete', 'b'),
    // A move the server was killed in: reconcile journals the new path's put, then the old path's delete.
    c(11, 'put', 'm', { hash: 'm1' }),
    c(12, 'put', 'n', { hash: 'm1' }),
    c(13, 'delete', 'm'),
  ]);
  t.equal(livesOn, 1, 'the delete of content current at another path is not required in history');
  t.same([...replaced].map(([k, by]) => `${k.replace('\0', ' ')} ${by}`).sort(), ['a h1 put@3', 'b b1 move@8', 'b h2 delete@10', 'e/x x1 put@6', 'e/x x2 rmdir@9']);
});

t.test('clean history passes; a missing object, a torn object and a lost row are each reported', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'dbx-audit-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const sdir = join(base, 'served');
  const app = await buildServer({ sdir, logger: false });
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const token = createToken(sdir, { name: 'audit' });
  const put = async (path: string, body: string): Promise<void> => {
    const res = await fetch(`${url}/v1/files/${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body });
    if (res.status !== 200) throw new Error(`PUT ${path}: ${res.status}`);
  };
  for (const body of ['one', 'two', 'three']) await put('f.txt', body);
  await put('g.txt', 'gee');
  await put('g.txt', 'gee 2');

  const clean = await auditHistory(sdir, url, token);
  t.same(clean.failures, []);
  t.match(clean, { rows: 3, objects: 3, replaced: 3 });

  const object = (hash: string): string => join(sdir, '.deltabox', 'versions', hash.slice(0, 2), hash.slice(2));
  appendFileSync(object(sha256('one')), 'x');
  unlinkSync(object(sha256('two')));
  const db = new Database(join(sdir, '.deltabox', 'state.db'));
  db.prepare('DELETE FROM versions WHERE hash = ?').run(sha256('gee'));
  db.close();
  const damaged = await auditHistory(sdir, url, token);
  t.equal(damaged.failures.length, 3, damaged.failures.join('\n'));
  t.match(damaged.failures.join('\n'), /torn/);
  t.match(damaged.failures.join('\n'), /f\.txt: object [0-9a-f]{12} is missing/);
  t.match(damaged.failures.join('\n'), /g\.txt: replaced content [0-9a-f]{12} \(ended by put@\d+\) is not in its history/);
});
