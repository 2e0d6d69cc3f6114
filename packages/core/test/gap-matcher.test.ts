/**
 * The gap matcher (src/gap-matcher.ts) on its own: a long gap with no matches is searched ever more sparsely yet a
 * match after it is still found whole, and the pieces of one long gap reuse the window they share.
 */
import t from 'tap';
import { GapMatcher, type GapSink } from '../src/gap-matcher.js';
import { seededBytes } from './helpers/bytes.js';

type Op = ['literal', number] | ['copy', number, number];

function recorder(): { ops: Op[]; sink: GapSink } {
  const ops: Op[] = [];
  const sink: GapSink = {
    literal: (b) => {
      const last = ops[ops.length - 1];
      if (last?.[0] === 'literal') last[1] += b.length;
      else ops.push(['literal', b.length]);
    },
    copy: (offset, length) => ops.push(['copy', offset, length]),
  };
  return { ops, sink };
}

function matcher(basis: Uint8Array, reads?: number[]): GapMatcher {
  return new GapMatcher({ length: basis.length, read: (o, n) => (reads?.push(o), basis.subarray(o, o + n)) }, { fineTrigger: Infinity });
}

t.test('a match after 64 KiB of new bytes is found whole, though the parse skips through them', async (t) => {
  const basis = seededBytes(1 << 20, 21);
  const gap = new Uint8Array(64 * 1024 + 4096 + 100);
  gap.set(seededBytes(64 * 1024, 22), 0);
  gap.set(basis.subarray(100_000, 100_000 + 4096), 64 * 1024);
  gap.set(seededBytes(100, 23), 64 * 1024 + 4096);
  const { ops, sink } = recorder();
  matcher(basis).encode(gap, 0, gap.length, 0, -1, sink);
  t.same(ops, [['literal', 64 * 1024], ['copy', 100_000, 4096], ['literal', 100]]);
});

t.test('a match shorter than the step far into new bytes may be skipped; near the start it is found', async (t) => {
  const basis = seededBytes(1 << 20, 24);
  const at = (position: number): Op[] => {
    const gap = seededBytes(200 * 1024, 25);
    gap.set(basis.subarray(position, position + 40), position); // at the expected address: a 40-byte repeat match
    const { ops, sink } = recorder();
    matcher(basis).encode(gap, 0, gap.length, 0, -1, sink);
    return ops;
  };
  t.same(at(500), [['literal', 500], ['copy', 500, 40], ['literal', 200 * 1024 - 540]], 'within the first KiB: every position is tried');
  t.same(at(150 * 1024 + 1), [['literal', 200 * 1024]], '150 KiB in, the step (~150) jumps over it');
});

t.test('the pieces of one long gap share one window: read and indexed once, matches still found', async (t) => {
  const basis = seededBytes(1 << 20, 26);
  const piece = 64 * 1024;
  const first = seededBytes(piece, 27);
  const second = seededBytes(piece, 28);
  second.set(basis.subarray(30_000, 31_000), 10_000);
  const reads: number[] = [];
  const m = matcher(basis, reads);
  const a = recorder();
  m.encode(first, 0, piece, 0, -1, a.sink);
  const b = recorder();
  m.encode(second, 0, piece, 0, -1, b.sink);
  t.equal(reads.length, 1, 'the window was read once');
  const fresh = recorder();
  matcher(basis).encode(second, 0, piece, 0, -1, fresh.sink);
  t.same(b.ops, fresh.ops, 'same ops as a matcher that read the window for this piece');
  t.same(b.ops, [['literal', 10_000], ['copy', 30_000, 1000], ['literal', piece - 11_000]]);
  m.encode(second, 0, piece, 50_000, -1, recorder().sink);
  t.equal(reads.length, 2, 'another expected address reads another window');
});

t.test('the next piece of one gap goes on skipping where the last one stopped', async (t) => {
  const basis = seededBytes(1 << 20, 29);
  const piece = seededBytes(64 * 1024, 30);
  piece.set(basis.subarray(20, 60), 20); // 40 bytes at the expected address, 20 bytes into the piece
  const fresh = recorder();
  t.equal(matcher(basis).encode(piece, 0, piece.length, 0, -1, fresh.sink), piece.length - 60, 'unmatched bytes at the end');
  t.same(fresh.ops, [['literal', 20], ['copy', 20, 40], ['literal', piece.length - 60]], 'a first piece looks at every position');
  const carried = recorder();
  t.equal(matcher(basis).encode(piece, 0, piece.length, 0, -1, carried.sink, 128 * 1024), 128 * 1024 + piece.length, 'the run goes on');
  t.same(carried.ops, [['literal', piece.length]], 'after 128 KiB of new bytes the step (~129) jumps over the 40 bytes');
  const short = recorder();
  t.equal(matcher(basis).encode(piece, 0, 5, 0, -1, short.sink, 7), 12, 'a gap too short to search adds to the run');
});
