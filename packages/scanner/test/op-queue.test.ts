import t from 'tap';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpQueue, type QueueEntry, type QueuePersistence } from '../src/queue/op-queue.js';
import { MinHeap } from '../src/queue/min-heap.js';
import { backoffDelayMs } from '../src/queue/backoff.js';
import { StateStore } from '../src/state/state-store.js';

class MemoryPersistence implements QueuePersistence {
  rows = new Map<string, QueueEntry>();
  save(entry: QueueEntry) { this.rows.set(entry.path, { ...entry }); }
  remove(path: string) { this.rows.delete(path); }
}

t.test('backoff stays within its bounds and grows with the attempt', async (t) => {
  t.equal(backoffDelayMs(1, () => 0), 250);
  t.equal(backoffDelayMs(1, () => 1), 500);
  t.equal(backoffDelayMs(50, () => 1), 30_000);
  t.equal(backoffDelayMs(0, () => 0.5), 250);
});

t.test('many enqueues of one path make one entry and one transfer', async (t) => {
  const q = new OpQueue([], new MemoryPersistence());
  for (let i = 0; i < 20; i++) q.enqueue('f', i);
  t.equal(q.size, 1);
  const [entry] = q.ready(100);
  const gen = q.begin(entry!.path);
  q.complete('f', gen);
  t.equal(q.size, 0);
});

t.test('a change during a transfer survives the transfer\'s completion', async (t) => {
  const q = new OpQueue([], new MemoryPersistence());
  q.enqueue('f', 0);
  const gen = q.begin('f');
  q.enqueue('f', 1);
  t.same(q.ready(5), [], 'not dispatched twice at once');
  q.complete('f', gen);
  t.equal(q.ready(5).length, 1);
});

t.test('enqueueing a path that waits, due and unchanged, writes nothing and keeps the entry', async (t) => {
  const persistence = new MemoryPersistence();
  let saves = 0;
  const counting: QueuePersistence = { save: (e) => { saves++; persistence.save(e); }, remove: (p) => persistence.remove(p) };
  const q = new OpQueue([], counting);
  const first = q.enqueue('f', 0);
  const moved = q.enqueue('b', 0, 'move', 'a');
  t.equal(saves, 2);
  t.equal(q.enqueue('f', 5), first, 'the same entry');
  t.equal(q.enqueue('b', 5), moved, 'a sync keeps the queued move as it is');
  t.equal(q.enqueue('b', 5, 'move', 'a'), moved, 'the same move');
  t.equal(saves, 2, 'no row written');
  t.equal(first.generation, 1);
  t.not(q.enqueue('b', 5, 'move', 'c'), moved, 'another source is a change');
  t.equal(q.get('b')!.from, 'c');
  t.not(q.enqueue('g', 0), undefined);
  t.equal(q.enqueue('g', 10, 'sync').generation, 1);
  const gen = q.begin('f');
  t.equal(q.enqueue('f', 6).generation, gen + 1, 'in flight: the generation tells the completion');
  q.complete('f', gen);
  t.ok(q.get('f'), 'still queued after the old transfer completed');
  const failed = q.fail('f', q.begin('f'), 7, 'boom')!;
  t.equal(q.enqueue('f', 8).attempts, 0, 'a failed entry is reset');
  t.not(q.get('f'), failed);
  t.equal(q.enqueue('h', 100).nextAtMs, 100);
  t.equal(q.enqueue('h', 50).nextAtMs, 50, 'an entry not yet due is made due now');
  t.equal(saves, 9, 'every change written');
});

t.test('a failure backs off; release keeps the entry due', async (t) => {
  const q = new OpQueue([], new MemoryPersistence(), { random: () => 1 });
  q.enqueue('f', 0);
  let gen = q.begin('f');
  q.fail('f', gen, 1000, 'boom');
  t.same(q.ready(1000), []);
  t.equal(q.nextWakeMs(), 1500);
  t.equal(q.ready(1500).length, 1);
  gen = q.begin('f');
  q.release('f');
  t.equal(q.ready(1500).length, 1);
  t.equal(q.get('f')!.attempts, 1);
});

t.test('a plain sync does not cancel a queued move; demote does', async (t) => {
  const q = new OpQueue([], new MemoryPersistence());
  q.enqueue('b', 0, 'move', 'a');
  q.enqueue('b', 1);
  t.equal(q.get('b')!.kind, 'move');
  t.ok(q.hasMoveFrom('a', false));
  t.ok(q.hasMoveFrom('', true));
  q.demoteMove('b');
  t.equal(q.get('b')!.kind, 'sync');
  t.notOk(q.hasMoveFrom('a', false));
});

t.test('two queued moves of the same source: the older goes first, the newer waits (no deadlock)', async (t) => {
  // As found by the multi-device simulation (two-way, 2026-12-02): dev-b-m24 moved to d3/dev-b-m32, then a new
  // dev-b-m24 made and moved to shared/dev-b-m43, both queued while the server was down; each waited for the other.
  const q = new OpQueue([], new MemoryPersistence());
  q.enqueue('d3/m32', 0, 'move', 'm24');
  q.enqueue('m24', 1);
  q.enqueue('shared/m43', 2, 'move', 'm24');
  t.notOk(q.hasMoveFrom('m24', true, 'd3/m32'), 'the older move is not held by the newer one');
  t.ok(q.hasMoveFrom('m24', true, 'shared/m43'), 'the newer one waits for the older');
  q.enqueue('m24/inner', 3, 'move', 'm24/x');
  t.ok(q.hasMoveFrom('m24', true, 'd3/m32'), 'a move out of the folder still goes first');
});

t.test('the queue survives a restart through the state store', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbx-queue-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new StateStore(dir);
  const q = new OpQueue(store.loadQueue(), store);
  q.enqueue('x', 5);
  q.enqueue('y', 6, 'move', 'z');
  q.fail('x', q.begin('x'), 10, 'nope');
  store.close();
  const reopened = new StateStore(dir);
  const q2 = new OpQueue(reopened.loadQueue(), reopened);
  t.equal(q2.size, 2);
  t.equal(q2.get('x')!.attempts, 1);
  t.equal(q2.get('y')!.from, 'z');
  t.equal(q2.enqueue('w', 7).seq, 3, 'sequence continues after the stored ones');
  reopened.close();
});

// Model commands with a fake clock: the real queue against a tiny reference model.
t.test('model: one entry per path, nothing lost, nothing dispatched early or twice', async (t) => {
  type Cmd = { op: 'enqueue' | 'begin' | 'complete' | 'fail' | 'release' | 'tick'; path: string; ms: number };
  const cmd = fc.record({
    op: fc.constantFrom('enqueue', 'begin', 'complete', 'fail', 'release', 'tick'),
    path: fc.constantFrom('a', 'b', 'c'),
    ms: fc.integer({ min: 0, max: 40_000 }),
  }) as fc.Arbitrary<Cmd>;
  fc.assert(
    fc.property(fc.array(cmd, { maxLength: 60 }), fc.integer(), (cmds, seed) => {
      let s = seed;
      const random = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
      const persistence = new MemoryPersistence();
      const q = new OpQueue([], persistence, { random });
      let now = 0;
      const dirty = new Set<string>(); // paths changed since their last completed transfer began
      const flying = new Map<string, { gen: number; dirtyAgain: boolean }>();
      for (const c of cmds) {
        if (c.op === 'tick') now += c.ms;
        else if (c.op === 'enqueue') {
          q.enqueue(c.path, now);
          dirty.add(c.path);
          const f = flying.get(c.path);
          if (f) f.dirtyAgain = true;
        } else if (c.op === 'begin') {
          const due = q.ready(now);
          if (due.some((e) => e.nextAtMs > now || flying.has(e.path))) return false;
          const entry = due.find((e) => e.path === c.path);
          if (!entry) continue;
          flying.set(c.path, { gen: q.begin(c.path), dirtyAgain: false });
        } else {
          const f = flying.get(c.path);
          if (!f) continue;
          flying.delete(c.path);
          if (c.op === 'complete') {
            q.complete(c.path, f.gen);
            if (!f.dirtyAgain) dirty.delete(c.path);
          } else if (c.op === 'fail') {
            const e = q.fail(c.path, f.gen, now, 'x');
            // Enqueued again while in flight: the new version is due at once, no backoff (seed -1446840879).
            if (e && !f.dirtyAgain && (e.nextAtMs - now < 250 || e.nextAtMs - now > 30_000)) return false;
            if (e && f.dirtyAgain && e.nextAtMs > now) return false;
          } else q.release(c.path);
        }
        // Every dirty path is queued exactly once, and the persisted rows mirror the queue.
        for (const p of dirty) if (!q.get(p)) return false;
        if (q.size !== dirty.size) return false;
        if (persistence.rows.size !== q.size) return false;
      }
      return true;
    }),
    { numRuns: 500 },
  );
  t.pass('model held');
});

t.test('a min-heap pops in order whatever the pushes', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 200 }), (values) => {
      const heap = new MinHeap<number>((a, b) => a < b);
      for (const v of values) heap.push(v);
      const out: number[] = [];
      for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
      return JSON.stringify(out) === JSON.stringify([...values].sort((a, b) => a - b)) && heap.size === 0;
    }),
  );
  t.pass('heap order held');
});

// The dispatcher's indexes against the plain walks they replace: same entries, same order, same wake time.
t.test('model: a dispatch round hands out what ready() lists, in order, and nextWakeMs matches a walk', async (t) => {
  type Cmd = { op: 'enqueue' | 'round' | 'complete' | 'fail' | 'release' | 'tick'; path: string; ms: number; take: number };
  const cmd = fc.record({
    op: fc.constantFrom('enqueue', 'round', 'complete', 'fail', 'release', 'tick'),
    path: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
    ms: fc.integer({ min: 0, max: 40_000 }),
    take: fc.integer({ min: 0, max: 3 }),
  }) as fc.Arbitrary<Cmd>;
  const walkWake = (q: OpQueue, after: number) => {
    let earliest: number | undefined;
    for (const e of q.entries()) if (!q.isInFlight(e.path) && e.nextAtMs > after && (earliest === undefined || e.nextAtMs < earliest)) earliest = e.nextAtMs;
    return earliest;
  };
  fc.assert(
    fc.property(fc.array(cmd, { maxLength: 80 }), (cmds) => {
      const q = new OpQueue([], new MemoryPersistence(), { random: () => 0.5 });
      const flying = new Map<string, number>();
      let now = 0;
      for (const c of cmds) {
        if (c.op === 'tick') now += c.ms;
        else if (c.op === 'enqueue') q.enqueue(c.path, now);
        else if (c.op === 'round') {
          const expected = q.ready(now).map((e) => e.path);
          const round = q.openRound(now);
          const got: string[] = [];
          for (let e = round.next(); e !== undefined; e = round.next()) got.push(e.path);
          round.close();
          if (JSON.stringify(got) !== JSON.stringify(expected)) return false;
          // Begin the first `take` of them, as a dispatcher with that much room would.
          const again = q.openRound(now);
          for (let i = 0; i < c.take; i++) {
            const e = again.next();
            if (e === undefined) break;
            flying.set(e.path, q.begin(e.path));
          }
          again.close();
        } else {
          const gen = flying.get(c.path);
          if (gen === undefined) continue;
          flying.delete(c.path);
          if (c.op === 'complete') q.complete(c.path, gen);
          else if (c.op === 'fail') q.fail(c.path, gen, now, 'x');
          else q.release(c.path);
        }
        if (q.nextWakeMs(now) !== walkWake(q, now)) return false;
      }
      return true;
    }),
    { numRuns: 500 },
  );
  t.pass('indexes agree with the walks');
});

t.test('dispatching 50,000 entries one by one does not walk the queue each time', async (t) => {
  const q = new OpQueue([], new MemoryPersistence());
  for (let i = 0; i < 50_000; i++) q.enqueue(`f${i}`, 0);
  q.fail('f0', q.begin('f0'), 0, 'later'); // one entry waiting, so the wake-up has something to find
  const started = performance.now();
  let done = 0;
  for (;;) {
    const round = q.openRound(1);
    const entry = round.next();
    round.close();
    if (entry === undefined) break;
    q.complete(entry.path, q.begin(entry.path));
    q.nextWakeMs(1);
    done++;
  }
  const ms = performance.now() - started;
  t.equal(done, 49_999);
  t.equal(q.size, 1, 'the failed entry waits for its backoff');
  // A walk per dispatch is 50,000 x 50,000 steps (tens of seconds); the heaps take well under one.
  t.ok(ms < 5_000, `${Math.round(ms)} ms for 49,999 rounds`);
});

t.test('retryAllNow makes entries an earlier run gave up on due now, with no failures counted', async (t) => {
  const q = new OpQueue([], new MemoryPersistence());
  q.enqueue('a', 0);
  let gen = q.begin('a');
  for (let i = 0; i < 5; i++) {
    q.fail('a', gen, 1000 * i, 'old error');
    gen = q.begin('a');
  }
  q.fail('a', gen, 5000, 'old error');
  t.equal(q.get('a')!.attempts, 6);
  t.same(q.ready(5001), [], 'backing off');
  q.retryAllNow(5001);
  t.match(q.get('a'), { attempts: 0, nextAtMs: 5001 });
  t.equal(q.get('a')!.lastError, undefined);
  t.same(q.ready(5001).map((e) => e.path), ['a']);
});
